import { AwsError } from "../aws-error.ts";
import { AWS_MANAGED_POLICIES } from "../aws-managed-policies.ts";
import type { IamGroupDoc, IamRoleDoc, IamUserDoc } from "../org-document.ts";
import { paginate } from "../paging.ts";
import { encodePolicy } from "../protocols/query.ts";
import type { QueryParams, XmlValue } from "../protocols/query.ts";
import type { Ctx } from "./context.ts";
import { optional, required } from "./iam-args.ts";
import { IAM_WRITE_OPERATIONS } from "./iam-write-operations.ts";

type Result = Record<string, XmlValue> | null;
type Handler = (ctx: Ctx, p: QueryParams) => Result;

import {
  acctState,
  arnOf,
  attached,
  attachmentCount,
  boundaryCount,
  boundaryXml,
  groupXml,
  policyMeta,
  policyXml,
  roleXml,
  userXml,
} from "./iam-xml.ts";
function maxItems(p: QueryParams): number {
  const v = p.get("MaxItems");
  if (v === undefined || v === "") return 100;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new AwsError(
      "ValidationError",
      `1 validation error detected: Value '${v}' at 'maxItems' failed to satisfy constraint: Member must have value ${n < 1 ? "greater than or equal to 1" : "less than or equal to 1000"}`,
      400,
    );
  return n;
}
function page<T>(
  p: QueryParams,
  all: readonly T[],
  key: string,
): { items: T[]; trunc: { IsTruncated: boolean; Marker?: string } } {
  const r = paginate(
    all,
    p.get("Marker"),
    maxItems(p),
    key,
    () => new AwsError("InvalidInput", "Invalid Marker.", 400),
  );
  return { items: r.items, trunc: { IsTruncated: r.next !== undefined, Marker: r.next } };
}
const byPath = <T extends { path: string }>(p: QueryParams, items: Iterable<T>): T[] => {
  const prefix = optional(p, "PathPrefix") ?? "/";
  return [...items].filter((x) => x.path.startsWith(prefix));
};

function principalOf(
  ctx: Ctx,
  kind: "User" | "Group" | "Role",
  name: string,
): { attachedPolicies: string[]; inlinePolicies: Array<{ name: string; document: string }> } {
  const a = ctx.actor.accountId;
  return kind === "User"
    ? ctx.store.iam.iamUser(a, name)
    : kind === "Group"
      ? ctx.store.iam.iamGroup(a, name)
      : ctx.store.iam.iamRole(a, name);
}
function listAttached(kind: "User" | "Group" | "Role"): Handler {
  return (ctx, p) => {
    const name = required(p, `${kind}Name`);
    const prefix = optional(p, "PathPrefix") ?? "/";
    const arns = principalOf(ctx, kind, name).attachedPolicies.filter((a) =>
      (policyMeta(ctx, a)?.path ?? "/").startsWith(prefix),
    );
    const r = page(p, attached(ctx, arns), `att${kind}:${name}`);
    return { AttachedPolicies: r.items, ...r.trunc };
  };
}
function listInline(kind: "User" | "Group" | "Role"): Handler {
  return (ctx, p) => {
    const name = required(p, `${kind}Name`);
    const r = page(
      p,
      principalOf(ctx, kind, name).inlinePolicies.map((x) => x.name),
      `inl${kind}:${name}`,
    );
    return { PolicyNames: r.items, ...r.trunc };
  };
}
function getInline(kind: "User" | "Group" | "Role"): Handler {
  return (ctx, p) => {
    const name = required(p, `${kind}Name`);
    const policyName = required(p, "PolicyName");
    const pol = principalOf(ctx, kind, name).inlinePolicies.find((x) => x.name === policyName);
    if (!pol)
      throw new AwsError(
        "NoSuchEntity",
        `The ${kind.toLowerCase()} policy with name ${policyName} cannot be found.`,
        404,
      );
    return { [`${kind}Name`]: name, PolicyName: policyName, PolicyDocument: encodePolicy(pol.document) };
  };
}
export const IAM_OPERATIONS: Record<string, Handler> = {
  ListUsers: (ctx, p) => {
    const a = ctx.actor.accountId;
    const r = page(p, byPath(p, acctState(ctx).users.values()), `users:${p.get("PathPrefix") ?? ""}`);
    return { Users: r.items.map((u) => userXml(a, u)), ...r.trunc };
  },
  GetUser: (ctx, p) => {
    let name = optional(p, "UserName");
    if (!name) {
      if (ctx.actor.kind !== "IAMUser")
        throw new AwsError(
          "ValidationError",
          "Must specify userName when calling with non-User credentials",
          400,
        );
      name = ctx.actor.init.userName ?? "";
    }
    return { User: userXml(ctx.actor.accountId, ctx.store.iam.iamUser(ctx.actor.accountId, name), true) };
  },
  ListGroups: (ctx, p) => {
    const r = page(p, byPath(p, acctState(ctx).groups.values()), `groups:${p.get("PathPrefix") ?? ""}`);
    return { Groups: r.items.map((g) => groupXml(ctx.actor.accountId, g)), ...r.trunc };
  },
  GetGroup: (ctx, p) => {
    const name = required(p, "GroupName");
    const g = ctx.store.iam.iamGroup(ctx.actor.accountId, name);
    const s = acctState(ctx);
    const members = [...(s.groupMembers.get(name) ?? [])]
      .map((u) => s.users.get(u))
      .filter((u): u is IamUserDoc => !!u);
    const r = page(p, members, `group:${name}`);
    return {
      Group: groupXml(ctx.actor.accountId, g),
      Users: r.items.map((u) => userXml(ctx.actor.accountId, u)),
      ...r.trunc,
    };
  },
  ListGroupsForUser: (ctx, p) => {
    const name = required(p, "UserName");
    const u = ctx.store.iam.iamUser(ctx.actor.accountId, name);
    const s = acctState(ctx);
    const r = page(
      p,
      u.groups.map((g) => s.groups.get(g)).filter((g): g is IamGroupDoc => !!g),
      `gfu:${name}`,
    );
    return { Groups: r.items.map((g) => groupXml(ctx.actor.accountId, g)), ...r.trunc };
  },
  ListRoles: (ctx, p) => {
    const r = page(p, byPath(p, acctState(ctx).roles.values()), `roles:${p.get("PathPrefix") ?? ""}`);
    return { Roles: r.items.map((x) => roleXml(ctx.actor.accountId, x)), ...r.trunc };
  },
  GetRole: (ctx, p) => ({
    Role: roleXml(
      ctx.actor.accountId,
      ctx.store.iam.iamRole(ctx.actor.accountId, required(p, "RoleName")),
      true,
    ),
  }),
  ListPolicies: (ctx, p) => {
    const scope = p.get("Scope") ?? "All";
    const onlyAttached = p.get("OnlyAttached") === "true";
    const prefix = optional(p, "PathPrefix") ?? "/";
    const s = acctState(ctx);
    let arns: string[] = [];
    if (scope !== "Local") arns.push(...AWS_MANAGED_POLICIES.keys());
    if (scope !== "AWS") arns.push(...s.policies.keys());
    arns = arns.filter(
      (a) => policyMeta(ctx, a)!.path.startsWith(prefix) && (!onlyAttached || attachmentCount(s, a) > 0),
    );
    const r = page(p, arns, `pol:${scope}:${onlyAttached}:${prefix}`);
    return {
      Policies: r.items.map((a) => {
        const x = policyXml(ctx, a);
        delete x.Description;
        return x;
      }),
      ...r.trunc,
    };
  },
  GetPolicy: (ctx, p) => {
    const arn = required(p, "PolicyArn");
    if (!policyMeta(ctx, arn)) throw new AwsError("NoSuchEntity", `Policy ${arn} was not found.`, 404);
    return { Policy: policyXml(ctx, arn) };
  },
  GetPolicyVersion: (ctx, p) => {
    const arn = required(p, "PolicyArn");
    const vid = required(p, "VersionId");
    const m = policyMeta(ctx, arn);
    if (!m) throw new AwsError("NoSuchEntity", `Policy ${arn} was not found.`, 404);
    const v = m.versions.find((x) => x.versionId === vid);
    if (!v)
      throw new AwsError(
        "NoSuchEntity",
        `Policy ${arn} version ${vid} does not exist or is not attachable.`,
        404,
      );
    return {
      PolicyVersion: {
        Document: encodePolicy(v.document),
        VersionId: v.versionId,
        IsDefaultVersion: v.versionId === m.defaultVersionId,
        CreateDate: v.createDate,
      },
    };
  },
  ListAttachedUserPolicies: listAttached("User"),
  ListAttachedGroupPolicies: listAttached("Group"),
  ListAttachedRolePolicies: listAttached("Role"),
  ListUserPolicies: listInline("User"),
  ListGroupPolicies: listInline("Group"),
  ListRolePolicies: listInline("Role"),
  GetUserPolicy: getInline("User"),
  GetGroupPolicy: getInline("Group"),
  GetRolePolicy: getInline("Role"),
  ListAccessKeys: (ctx, p) => {
    let name = optional(p, "UserName");
    if (!name) {
      if (ctx.actor.kind !== "IAMUser")
        throw new AwsError(
          "ValidationError",
          "Must specify userName when calling with non-User credentials",
          400,
        );
      name = ctx.actor.init.userName ?? "";
    }
    const u = ctx.store.iam.iamUser(ctx.actor.accountId, name);
    const r = page(p, u.accessKeys, `keys:${name}`);
    return {
      AccessKeyMetadata: r.items.map((k) => ({
        UserName: u.name,
        AccessKeyId: k.id,
        Status: k.status,
        CreateDate: k.createDate,
      })),
      ...r.trunc,
    };
  },
  GetAccessKeyLastUsed: (ctx, p) => {
    const id = required(p, "AccessKeyId");
    const ref = ctx.store.keys.get(id);
    if (!ref || ref.kind !== "user" || ref.accountId !== ctx.actor.accountId)
      throw new AwsError(
        "AccessDenied",
        `User: ${ctx.actor.arn} is not authorized to perform: iam:GetAccessKeyLastUsed on resource: access key ${id}`,
        403,
      );
    const u = ctx.store.iam.iamUser(ref.accountId, ref.userName);
    const k = u.accessKeys.find((x) => x.id === id)!;
    return {
      UserName: u.name,
      AccessKeyLastUsed: k.lastUsed
        ? { LastUsedDate: k.lastUsed.date, ServiceName: k.lastUsed.service, Region: k.lastUsed.region }
        : { ServiceName: "N/A", Region: "N/A" },
    };
  },
  ListSAMLProviders: (ctx) => ({
    SAMLProviderList: acctState(ctx).doc.iam.samlProviders.map((x) => ({
      Arn: x.arn,
      CreateDate: x.createDate,
      // Identity Center's provider metadata certificate; AWS reports its expiry.
      ValidUntil: new Date(Date.parse(x.createDate) + 5 * 365 * 86_400_000).toISOString(),
    })),
  }),
  ListAccountAliases: (ctx, p) => {
    const r = page(p, acctState(ctx).doc.iam.aliases, "aliases");
    return { AccountAliases: r.items, ...r.trunc };
  },
  GetAccountAuthorizationDetails: (ctx, p) => {
    const filter = new Set(p.list("Filter").filter((x) => x));
    const want = (t: string): boolean => filter.size === 0 || filter.has(t);
    const s = acctState(ctx);
    const a = ctx.actor.accountId;
    type Item =
      | { k: "u"; v: IamUserDoc }
      | { k: "g"; v: IamGroupDoc }
      | { k: "r"; v: IamRoleDoc }
      | { k: "p"; v: string };
    const all: Item[] = [];
    if (want("User")) for (const v of s.users.values()) all.push({ k: "u", v });
    if (want("Group")) for (const v of s.groups.values()) all.push({ k: "g", v });
    if (want("Role")) for (const v of s.roles.values()) all.push({ k: "r", v });
    if (want("LocalManagedPolicy")) for (const v of s.policies.keys()) all.push({ k: "p", v });
    if (want("AWSManagedPolicy"))
      for (const v of AWS_MANAGED_POLICIES.keys())
        if (attachmentCount(s, v) + boundaryCount(s, v) > 0) all.push({ k: "p", v });
    const r = page(p, all, `gaad:${[...filter].sort().join(",")}`);
    const inl = (x: Array<{ name: string; document: string }>): XmlValue[] =>
      x.map((i) => ({ PolicyName: i.name, PolicyDocument: encodePolicy(i.document) }));
    return {
      UserDetailList: r.items.flatMap((i) =>
        i.k === "u"
          ? [
              {
                ...userXml(a, i.v),
                PasswordLastUsed: undefined,
                PermissionsBoundary: boundaryXml(i.v.permissionsBoundary),
                UserPolicyList: inl(i.v.inlinePolicies),
                GroupList: i.v.groups,
                AttachedManagedPolicies: attached(ctx, i.v.attachedPolicies),
                Tags: i.v.tags,
              },
            ]
          : [],
      ),
      GroupDetailList: r.items.flatMap((i) =>
        i.k === "g"
          ? [
              {
                ...groupXml(a, i.v),
                GroupPolicyList: inl(i.v.inlinePolicies),
                AttachedManagedPolicies: attached(ctx, i.v.attachedPolicies),
              },
            ]
          : [],
      ),
      RoleDetailList: r.items.flatMap((i) =>
        i.k === "r"
          ? [
              {
                Path: i.v.path,
                RoleName: i.v.name,
                RoleId: i.v.id,
                Arn: arnOf(a, "role", i.v),
                CreateDate: i.v.createDate,
                AssumeRolePolicyDocument: encodePolicy(i.v.trustPolicy),
                InstanceProfileList: [],
                RolePolicyList: inl(i.v.inlinePolicies),
                AttachedManagedPolicies: attached(ctx, i.v.attachedPolicies),
                PermissionsBoundary: boundaryXml(i.v.permissionsBoundary),
                Tags: i.v.tags,
                RoleLastUsed: {},
              },
            ]
          : [],
      ),
      Policies: r.items.flatMap((i) => (i.k === "p" ? [policyXml(ctx, i.v, true)] : [])),
      ...r.trunc,
    };
  },
  ...IAM_WRITE_OPERATIONS,
};
