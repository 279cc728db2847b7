import {
  pageRequest,
  type Entitlement,
  type Grant,
  type PageRequest,
  type PageResult,
  type Resource,
  type ResultBatch,
} from "@grantline/contracts";
import { fingerprintExternalIds } from "@grantline/policy";
import {
  iamGroupMemberEntitlementId,
  iamKeysScope,
  iamPolicyAttachedEntitlementId,
  iamRoleAssignmentEntitlementId,
  inlinePolicyAttachedEntitlementId,
  inlinePolicyId,
} from "../ids.ts";
import { decodePolicy } from "./decode-policy.ts";
import { iamAccountOf } from "./iam-account-requests.ts";
import { batchFor, child, grant, list, optStr, str } from "./page-helpers.ts";
import { trustGrantAttrs, trustPrincipals } from "./trust-principals.ts";

type Item = Record<string, unknown>;

interface Owner {
  type: "iam_user" | "iam_group" | "iam_role";
  arn: string;
}

/** Memberships whose group is not on the page yet: carried to the next page of the chain (GAAD pages users first). */
interface Carry {
  groups: Record<string, string>;
  pending: Array<[string, string]>;
}

/** The rows GAAD-shaped entries map to: the same for a GAAD page and a targeted refresh of one entity. */
export interface GaadRows {
  resources: Resource[];
  entitlements: Entitlement[];
  grants: Grant[];
  children: PageRequest[];
  /** Group name → ARN known so far (this page's groups and `knownGroups`; a chain's earlier pages). */
  groups: Record<string, string>;
  /** Memberships whose group is not known yet. */
  pending: Array<[string, string]>;
}

/** One GAAD page being mapped: the account it was read in, what it adds up to, and the chain's carried state. */
interface GaadPage extends GaadRows {
  res: PageResult;
  accountId: string;
}

function carryOf(r: PageRequest): Carry {
  const c = (r.params.iamCarry ?? {}) as Partial<Carry>;
  return { groups: { ...(c.groups ?? {}) }, pending: [...(c.pending ?? [])] };
}

function tags(o: Item): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of list(o, "Tags")) {
    const k = optStr(t, "Key");
    if (k !== null) out[k] = optStr(t, "Value") ?? "";
  }
  return out;
}

/** The managed policy ARN set as a user's or role's permissions boundary (GAAD's `PermissionsBoundary`), or null. */
function permissionsBoundary(o: Item): string | null {
  return optStr(o.PermissionsBoundary as Item | undefined, "PermissionsBoundaryArn");
}

/** A user, group or role is owned by its account (an AWS-managed policy is not: see `addPolicy`). */
const inAccount = (accountId: string) => ({ parentType: "iam_account" as const, parentId: accountId });

/** A group's or role's policy reaches its members / those who can assume it; a user's reaches only the user. */
const ownerGrant = (ent: string, owner: Owner): Grant =>
  grant(ent, owner.type, owner.arn, owner.type !== "iam_user");

function inlinePolicies(p: GaadPage, owner: Owner, policies: Item[]): void {
  for (const pol of policies) {
    const name = str(pol, "PolicyName");
    const id = inlinePolicyId(owner.arn, name);
    const ent = inlinePolicyAttachedEntitlementId(id);
    p.resources.push({
      type: "inline_policy",
      id,
      parentType: owner.type,
      parentId: owner.arn,
      name,
      attrs: { document: decodePolicy(optStr(pol, "PolicyDocument")) },
    });
    p.entitlements.push({
      id: ent,
      resourceType: "inline_policy",
      resourceId: id,
      slug: "attached",
      name: `${name} attached`,
      attrs: {},
    });
    p.grants.push(ownerGrant(ent, owner));
  }
}

function attachedPolicies(p: GaadPage, owner: Owner, o: Item): void {
  for (const pol of list(o, "AttachedManagedPolicies"))
    p.grants.push(ownerGrant(iamPolicyAttachedEntitlementId(str(pol, "PolicyArn")), owner));
}

/** A membership is granted once its group is known (this page or an earlier one), else carried forward. */
function joinGroup(p: GaadPage, userArn: string, groupName: string): void {
  const groupArn = p.groups[groupName];
  if (groupArn) p.grants.push(grant(iamGroupMemberEntitlementId(groupArn), "iam_user", userArn, false));
  else p.pending.push([userArn, groupName]);
}

function addUser(p: GaadPage, u: Item): void {
  const arn = str(u, "Arn");
  const userName = str(u, "UserName");
  const emails = [
    ...(userName.includes("@") ? [userName] : []),
    ...list(u, "Tags")
      .filter((x) => optStr(x, "Key")?.toLowerCase() === "email")
      .map((x) => optStr(x, "Value"))
      .filter((x): x is string => x !== null && x !== ""),
  ];
  p.resources.push({
    type: "iam_user",
    id: arn,
    ...inAccount(p.accountId),
    name: userName,
    attrs: {
      accountId: p.accountId,
      userId: optStr(u, "UserId"),
      path: optStr(u, "Path") ?? "/",
      createDate: optStr(u, "CreateDate"),
      emails: [...new Set(emails)],
      // GAAD does not return PasswordLastUsed (GetUser would, one call per user).
      passwordLastUsed: optStr(u, "PasswordLastUsed"),
      permissionsBoundary: permissionsBoundary(u),
      tags: tags(u),
    },
  });
  for (const groupName of list<string>(u, "GroupList")) joinGroup(p, arn, groupName);
  const owner: Owner = { type: "iam_user", arn };
  attachedPolicies(p, owner, u);
  inlinePolicies(p, owner, list(u, "UserPolicyList"));
  p.children.push(
    child(
      p.res.request,
      "iam",
      "ListAccessKeys",
      { UserName: userName, UserArn: arn },
      iamKeysScope(p.accountId),
    ),
  );
}

function addGroup(p: GaadPage, g: Item): void {
  const arn = str(g, "Arn");
  const name = str(g, "GroupName");
  p.resources.push({
    type: "iam_group",
    id: arn,
    ...inAccount(p.accountId),
    name,
    attrs: {
      accountId: p.accountId,
      groupId: optStr(g, "GroupId"),
      path: optStr(g, "Path") ?? "/",
      createDate: optStr(g, "CreateDate"),
    },
  });
  p.entitlements.push({
    id: iamGroupMemberEntitlementId(arn),
    resourceType: "iam_group",
    resourceId: arn,
    slug: "member",
    name: `Member of ${name}`,
    attrs: {},
  });
  const owner: Owner = { type: "iam_group", arn };
  attachedPolicies(p, owner, g);
  inlinePolicies(p, owner, list(g, "GroupPolicyList"));
}

function addRole(p: GaadPage, r: Item): void {
  const arn = str(r, "Arn");
  const name = str(r, "RoleName");
  // External ids are shared secrets: the stored policy, its grants' conditions and the events carry fingerprints;
  // the values go to the writer beside the row, for a table only it reads.
  const masked = fingerprintExternalIds(decodePolicy(optStr(r, "AssumeRolePolicyDocument")));
  const trust = masked.document;
  const ent = iamRoleAssignmentEntitlementId(arn);
  p.resources.push({
    type: "iam_role",
    id: arn,
    ...inAccount(p.accountId),
    name,
    attrs: {
      accountId: p.accountId,
      roleId: optStr(r, "RoleId"),
      path: optStr(r, "Path") ?? "/",
      createDate: optStr(r, "CreateDate"),
      description: optStr(r, "Description"),
      trustPolicy: trust,
      permissionsBoundary: permissionsBoundary(r),
      tags: tags(r),
    },
    trustExternalIds: masked.externalIds,
  });
  p.entitlements.push({
    id: ent,
    resourceType: "iam_role",
    resourceId: arn,
    slug: "assignment",
    name: `Can assume the ${name} role`,
    attrs: {},
  });
  // evaluateTrust already merges a principal named in several statements: one grant each.
  for (const t of trustPrincipals(trust))
    p.grants.push(grant(ent, t.principalType, t.principalId, t.expandable, trustGrantAttrs(t)));
  const owner: Owner = { type: "iam_role", arn };
  attachedPolicies(p, owner, r);
  inlinePolicies(p, owner, list(r, "RolePolicyList"));
}

function addPolicy(p: GaadPage, pol: Item): void {
  const arn = str(pol, "Arn");
  const awsManaged = arn.includes(":iam::aws:");
  const defaultVersion = optStr(pol, "DefaultVersionId");
  const version = list(pol, "PolicyVersionList").find(
    (v) => v.IsDefaultVersion === true || optStr(v, "VersionId") === defaultVersion,
  );
  p.resources.push({
    type: "iam_policy",
    id: arn,
    // AWS-managed policies are the same object in every account: no parent, no per-account attrs.
    parentType: awsManaged ? null : "iam_account",
    parentId: awsManaged ? null : p.accountId,
    name: str(pol, "PolicyName"),
    attrs: {
      awsManaged,
      policyId: optStr(pol, "PolicyId"),
      path: optStr(pol, "Path") ?? "/",
      description: optStr(pol, "Description"),
      defaultVersionId: defaultVersion,
      document: decodePolicy(optStr(version, "Document")),
      // AttachmentCount is left out on purpose: it changes with every attachment, already a grant event.
    },
    // An AWS-managed policy is shared by every account: no one account's scope may sweep it, only the run.
    ...(awsManaged ? { scope: null } : {}),
  });
  p.entitlements.push({
    id: iamPolicyAttachedEntitlementId(arn),
    resourceType: "iam_policy",
    resourceId: arn,
    slug: "attached",
    name: `${str(pol, "PolicyName")} attached`,
    attrs: {},
    ...(awsManaged ? { scope: null } : {}),
  });
}

/** One row per id: the writer upserts a batch in one statement, which must not touch a row twice. */
const once = <T>(xs: T[], k: (x: T) => string): T[] => [...new Map(xs.map((x) => [k(x), x])).values()];

/**
 * Whether a managed policy of the page is synced. A customer-managed policy always is: it exists in the account
 * whether or not anything uses it, and detaching its last attachment revokes a grant, it deletes nothing. An
 * AWS-managed one (hundreds, the same in every account) only when attached, under `onlyAttachedPolicies`.
 */
function synced(pol: Item, onlyAttached: boolean): boolean {
  const awsManaged = str(pol, "Arn").includes(":iam::aws:");
  return !awsManaged || !onlyAttached || Number(pol.AttachmentCount ?? 0) > 0;
}

/**
 * Maps GAAD-shaped entries (`UserDetailList`, `GroupDetailList`, `RoleDetailList`, `Policies` of `page`) read in
 * `res`'s account: users, groups, roles, managed policies (see `synced`) and inline policies, with the grants
 * between them. `knownGroups` names the groups of earlier pages (or, for one user's refresh, its groups).
 */
export function mapGaadEntities(
  res: PageResult,
  page: Record<string, unknown>,
  knownGroups: Record<string, string>,
  pendingIn: Array<[string, string]> = [],
): GaadRows {
  const onlyAttached = res.request.params.onlyAttachedPolicies !== false;
  const groups = list(page, "GroupDetailList");
  const known = { ...knownGroups };
  for (const g of groups) known[str(g, "GroupName")] = str(g, "Arn");
  const p: GaadPage = {
    res,
    accountId: iamAccountOf(res),
    resources: [],
    entitlements: [],
    grants: [],
    children: [],
    groups: known,
    pending: [],
  };
  for (const [userArn, groupName] of pendingIn) joinGroup(p, userArn, groupName);
  for (const u of list(page, "UserDetailList")) addUser(p, u);
  for (const g of groups) addGroup(p, g);
  for (const r of list(page, "RoleDetailList")) addRole(p, r);
  for (const pol of list(page, "Policies")) if (synced(pol, onlyAttached)) addPolicy(p, pol);
  return {
    resources: once(p.resources, (r) => `${r.type}/${r.id}`),
    entitlements: once(p.entitlements, (e) => e.id),
    grants: once(p.grants, (g) => g.id),
    children: p.children,
    groups: p.groups,
    pending: p.pending,
  };
}

/**
 * One GAAD page of one account: users, groups, roles, managed policies (see `synced`) and inline policies, with
 * the grants between them.
 */
export function mapGetAccountAuthorizationDetails(res: PageResult): ResultBatch {
  const carry = carryOf(res.request);
  const rows = mapGaadEntities(res, res.page, carry.groups, carry.pending);
  const batch = batchFor(res, {
    resources: rows.resources,
    entitlements: rows.entitlements,
    grants: rows.grants,
    children: rows.children,
  });
  const warnings: string[] = [];
  if (batch.scopeComplete) {
    for (const [userArn, groupName] of rows.pending)
      warnings.push(
        `iam: ${userArn} is in group ${groupName}, which GetAccountAuthorizationDetails did not list`,
      );
  } else {
    // The next page inherits what this one learned (params are part of its deterministic task id, and the
    // same pages always yield the same carry).
    const next = batch.children[0];
    if (next)
      batch.children[0] = pageRequest({
        ...next,
        params: { ...next.params, iamCarry: { groups: rows.groups, pending: rows.pending } },
      });
  }
  return { ...batch, warnings: [...batch.warnings, ...warnings] };
}
