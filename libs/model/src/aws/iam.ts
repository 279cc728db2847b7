import {
  pageRequest,
  type Entitlement,
  type Grant,
  type PageRequest,
  type PageResult,
  type Resource,
  type ResultBatch,
} from "@grantline/contracts";
import { batchFor, child, entitlementId, grantId, list, optStr, param, str } from "./page-helpers.ts";

/*
 * IAM, per account, from one GetAccountAuthorizationDetails (GAAD) chain: users, groups, roles, managed and inline
 * policies and every grant between them, in scope `iam:<accountId>` (swept on the chain's last page).
 *
 * Access keys hang off each user: ListAccessKeys → one GetAccessKeyLastUsed per key, which writes the key (once
 * per run, as organizations.ts does for accounts). Keys live in scope `iam:<accountId>:keys`, which is never swept
 * by a task (each key is its own single-page task, so closing the scope there would sweep the user's other keys):
 * they are swept by the source-wide sweep at the end of a successful run. Being nested under `iam:<accountId>`,
 * a denied GAAD (role that cannot be assumed) keeps them too: `keepScope` matches scopes by prefix.
 */

export const IAM_GAAD_FILTER = ["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"];

/** The mark-and-sweep scope of one account's IAM rows (GAAD). */
export function iamScope(accountId: string): string {
  return `iam:${accountId}`;
}

/** Access keys of one account: swept only by the source-wide sweep (see above). */
export function iamKeysScope(accountId: string): string {
  return `iam:${accountId}:keys`;
}

/** The account alias resource of one account. */
export function iamAliasScope(accountId: string): string {
  return `iam:${accountId}:alias`;
}

export function iamGroupMemberEntitlementId(groupArn: string): string {
  return entitlementId("iam_group", groupArn, "member");
}

export function iamRoleAssignmentEntitlementId(roleArn: string): string {
  return entitlementId("iam_role", roleArn, "assignment");
}

export function iamPolicyAttachedEntitlementId(policyArn: string): string {
  return entitlementId("iam_policy", policyArn, "attached");
}

export function inlinePolicyId(ownerArn: string, policyName: string): string {
  return `${ownerArn}::inline::${policyName}`;
}

export function inlinePolicyAttachedEntitlementId(inlineId: string): string {
  return entitlementId("inline_policy", inlineId, "attached");
}

/**
 * The account's IAM chain and its alias. The caller's own account (GetCallerIdentity) and every ACTIVE member
 * account (ListParents, cross-account) produce the identical request, so the task id is the same and the
 * writer inserts it once.
 */
export function iamAccountRequests(
  parent: PageRequest,
  accountId: string,
  onlyAttachedPolicies: boolean,
): PageRequest[] {
  return [
    child(
      parent,
      "iam",
      "GetAccountAuthorizationDetails",
      { Filter: IAM_GAAD_FILTER, onlyAttachedPolicies },
      iamScope(accountId),
      accountId,
    ),
    child(parent, "iam", "ListAccountAliases", {}, iamAliasScope(accountId), accountId),
  ];
}

/** Root task: who we are decides which account the (non-cross-account) IAM sync covers. */
export function mapGetCallerIdentity(res: PageResult): ResultBatch {
  const account = str(res.page, "Account");
  const onlyAttached = res.request.params.onlyAttachedPolicies !== false;
  return batchFor(res, { children: iamAccountRequests(res.request, account, onlyAttached) });
}

function accountOf(res: PageResult): string {
  const a = res.request.accountId;
  if (a !== null) return a;
  // IAM requests always name the account they are made in; one that does not must carry it as a param.
  return param(res.request, "AccountId");
}

/** IAM returns policy documents URL-encoded; aws-sim's export and some SDK paths give them plain. */
export function decodePolicy(doc: string | null): string | null {
  if (doc === null) return null;
  if (doc.trimStart().startsWith("{")) return doc;
  try {
    return decodeURIComponent(doc);
  } catch {
    return doc;
  }
}

interface TrustPrincipal {
  principalType: string;
  principalId: string;
  expandable: boolean;
}

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);

function allowsAssume(action: unknown): boolean {
  return asList(action).some(
    (a) => typeof a === "string" && ["sts:assumerole", "sts:*", "*"].includes(a.toLowerCase()),
  );
}

/** One AWS principal of a trust policy, classified. */
export function classifyAwsPrincipal(p: string): TrustPrincipal {
  if (p === "*") return { principalType: "wildcard", principalId: "*", expandable: false };
  if (/^\d{12}$/.test(p)) return { principalType: "aws_account", principalId: p, expandable: false };
  const m = /^arn:aws[a-z-]*:iam::(\d{12}|aws):(.*)$/.exec(p);
  const rest = m?.[2];
  if (m && rest === "root")
    return { principalType: "aws_account", principalId: m[1] ?? p, expandable: false };
  if (rest?.startsWith("user/")) return { principalType: "iam_user", principalId: p, expandable: false };
  if (rest?.startsWith("role/")) return { principalType: "iam_role", principalId: p, expandable: true };
  // An assumed-role session, a federated user, an unresolvable id: recorded as what it is, not dropped.
  return { principalType: "aws_principal", principalId: p, expandable: false };
}

/**
 * Who a role's trust policy lets assume it: Allow statements whose Action covers sts:AssumeRole. Service and
 * federated principals are kept (as `aws_service` / `federated`) so nothing is silently dropped. Conditions
 * (ExternalId, MFA…) are not evaluated; they are carried on the grant.
 */
export function trustPrincipals(document: string | null): Array<TrustPrincipal & { conditions: unknown }> {
  if (document === null) return [];
  let doc: unknown;
  try {
    doc = JSON.parse(document);
  } catch {
    return [];
  }
  const out: Array<TrustPrincipal & { conditions: unknown }> = [];
  for (const st of asList((doc as Record<string, unknown> | null)?.Statement)) {
    if (typeof st !== "object" || st === null) continue;
    const s = st as Record<string, unknown>;
    if (s.Effect !== "Allow" || !allowsAssume(s.Action)) continue;
    const conditions = s.Condition ?? null;
    const principal = s.Principal;
    if (principal === "*") {
      out.push({ ...classifyAwsPrincipal("*"), conditions });
      continue;
    }
    if (typeof principal !== "object" || principal === null) continue;
    const pr = principal as Record<string, unknown>;
    for (const a of asList(pr.AWS))
      if (typeof a === "string") out.push({ ...classifyAwsPrincipal(a), conditions });
    for (const a of asList(pr.Service))
      if (typeof a === "string")
        out.push({ principalType: "aws_service", principalId: a, expandable: false, conditions });
    for (const a of asList(pr.Federated))
      if (typeof a === "string")
        out.push({ principalType: "federated", principalId: a, expandable: false, conditions });
  }
  return out;
}

function tags(o: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of list(o, "Tags")) {
    const k = optStr(t, "Key");
    if (k !== null) out[k] = optStr(t, "Value") ?? "";
  }
  return out;
}

interface Owner {
  type: "iam_user" | "iam_group" | "iam_role";
  arn: string;
}

interface Rows {
  resources: Resource[];
  entitlements: Entitlement[];
  grants: Grant[];
}

function inlinePolicies(owner: Owner, policies: Array<Record<string, unknown>>, rows: Rows): void {
  for (const p of policies) {
    const name = str(p, "PolicyName");
    const id = inlinePolicyId(owner.arn, name);
    const ent = inlinePolicyAttachedEntitlementId(id);
    rows.resources.push({
      type: "inline_policy",
      id,
      parentType: owner.type,
      parentId: owner.arn,
      name,
      attrs: { document: decodePolicy(optStr(p, "PolicyDocument")) },
    });
    rows.entitlements.push({
      id: ent,
      resourceType: "inline_policy",
      resourceId: id,
      slug: "attached",
      name: `${name} attached`,
      attrs: {},
    });
    rows.grants.push({
      id: grantId(ent, owner.type, owner.arn),
      entitlementId: ent,
      principalType: owner.type,
      principalId: owner.arn,
      expandable: owner.type !== "iam_user",
      attrs: {},
    });
  }
}

function attachedPolicies(owner: Owner, o: Record<string, unknown>, rows: Rows): void {
  for (const p of list(o, "AttachedManagedPolicies")) {
    const ent = iamPolicyAttachedEntitlementId(str(p, "PolicyArn"));
    rows.grants.push({
      id: grantId(ent, owner.type, owner.arn),
      entitlementId: ent,
      principalType: owner.type,
      principalId: owner.arn,
      // A group's or role's policy reaches its members / those who can assume it.
      expandable: owner.type !== "iam_user",
      attrs: {},
    });
  }
}

/** Memberships whose group is not on the page yet: carried to the next page of the chain (GAAD pages users first). */
interface Carry {
  groups: Record<string, string>;
  pending: Array<[string, string]>;
}

function carryOf(r: PageRequest): Carry {
  const c = (r.params.iamCarry ?? {}) as Partial<Carry>;
  return { groups: { ...(c.groups ?? {}) }, pending: [...(c.pending ?? [])] };
}

/**
 * One GAAD page of one account: users, groups, roles, managed policies (AWS-managed ones only when attached,
 * all of them only when attached under `onlyAttachedPolicies`) and inline policies, with the grants between them.
 */
export function mapGetAccountAuthorizationDetails(res: PageResult): ResultBatch {
  const accountId = accountOf(res);
  const onlyAttached = res.request.params.onlyAttachedPolicies !== false;
  const rows: Rows = { resources: [], entitlements: [], grants: [] };
  const children: PageRequest[] = [];
  const acct = { parentType: "iam_account", parentId: accountId };
  const carry = carryOf(res.request);

  const groups = list(res.page, "GroupDetailList");
  for (const g of groups) carry.groups[str(g, "GroupName")] = str(g, "Arn");
  const member = (userArn: string, groupArn: string): Grant => {
    const ent = iamGroupMemberEntitlementId(groupArn);
    return {
      id: grantId(ent, "iam_user", userArn),
      entitlementId: ent,
      principalType: "iam_user",
      principalId: userArn,
      expandable: false,
      attrs: {},
    };
  };
  const pending: Array<[string, string]> = [];
  for (const [userArn, groupName] of carry.pending) {
    const groupArn = carry.groups[groupName];
    if (groupArn) rows.grants.push(member(userArn, groupArn));
    else pending.push([userArn, groupName]);
  }

  for (const u of list(res.page, "UserDetailList")) {
    const arn = str(u, "Arn");
    const userName = str(u, "UserName");
    const t = tags(u);
    const emails = [
      ...(userName.includes("@") ? [userName] : []),
      ...list(u, "Tags")
        .filter((x) => optStr(x, "Key")?.toLowerCase() === "email")
        .map((x) => optStr(x, "Value"))
        .filter((x): x is string => x !== null && x !== ""),
    ];
    rows.resources.push({
      type: "iam_user",
      id: arn,
      ...acct,
      name: userName,
      attrs: {
        accountId,
        userId: optStr(u, "UserId"),
        path: optStr(u, "Path") ?? "/",
        createDate: optStr(u, "CreateDate"),
        emails: [...new Set(emails)],
        // GAAD does not return PasswordLastUsed (GetUser would, one call per user).
        passwordLastUsed: optStr(u, "PasswordLastUsed"),
        tags: t,
      },
    });
    for (const groupName of list<string>(u, "GroupList")) {
      const groupArn = carry.groups[groupName];
      if (groupArn) rows.grants.push(member(arn, groupArn));
      else pending.push([arn, groupName]);
    }
    const owner: Owner = { type: "iam_user", arn };
    attachedPolicies(owner, u, rows);
    inlinePolicies(owner, list(u, "UserPolicyList"), rows);
    children.push(
      child(
        res.request,
        "iam",
        "ListAccessKeys",
        { UserName: userName, UserArn: arn },
        iamKeysScope(accountId),
      ),
    );
  }

  for (const g of groups) {
    const arn = str(g, "Arn");
    const name = str(g, "GroupName");
    rows.resources.push({
      type: "iam_group",
      id: arn,
      ...acct,
      name,
      attrs: {
        accountId,
        groupId: optStr(g, "GroupId"),
        path: optStr(g, "Path") ?? "/",
        createDate: optStr(g, "CreateDate"),
      },
    });
    rows.entitlements.push({
      id: iamGroupMemberEntitlementId(arn),
      resourceType: "iam_group",
      resourceId: arn,
      slug: "member",
      name: `Member of ${name}`,
      attrs: {},
    });
    const owner: Owner = { type: "iam_group", arn };
    attachedPolicies(owner, g, rows);
    inlinePolicies(owner, list(g, "GroupPolicyList"), rows);
  }

  for (const r of list(res.page, "RoleDetailList")) {
    const arn = str(r, "Arn");
    const name = str(r, "RoleName");
    const trust = decodePolicy(optStr(r, "AssumeRolePolicyDocument"));
    const ent = iamRoleAssignmentEntitlementId(arn);
    rows.resources.push({
      type: "iam_role",
      id: arn,
      ...acct,
      name,
      attrs: {
        accountId,
        roleId: optStr(r, "RoleId"),
        path: optStr(r, "Path") ?? "/",
        createDate: optStr(r, "CreateDate"),
        description: optStr(r, "Description"),
        trustPolicy: trust,
        tags: tags(r),
      },
    });
    rows.entitlements.push({
      id: ent,
      resourceType: "iam_role",
      resourceId: arn,
      slug: "assignment",
      name: `Can assume the ${name} role`,
      attrs: {},
    });
    const seen = new Set<string>();
    for (const p of trustPrincipals(trust)) {
      const id = grantId(ent, p.principalType, p.principalId);
      if (seen.has(id)) continue;
      seen.add(id);
      rows.grants.push({
        id,
        entitlementId: ent,
        principalType: p.principalType,
        principalId: p.principalId,
        expandable: p.expandable,
        attrs: p.conditions === null ? {} : { conditions: p.conditions },
      });
    }
    const owner: Owner = { type: "iam_role", arn };
    attachedPolicies(owner, r, rows);
    inlinePolicies(owner, list(r, "RolePolicyList"), rows);
  }

  for (const p of list(res.page, "Policies")) {
    if (onlyAttached && !(Number(p.AttachmentCount ?? 0) > 0)) continue;
    const arn = str(p, "Arn");
    const awsManaged = arn.includes(":iam::aws:");
    const defaultVersion = optStr(p, "DefaultVersionId");
    const version = list(p, "PolicyVersionList").find(
      (v) => v.IsDefaultVersion === true || optStr(v, "VersionId") === defaultVersion,
    );
    rows.resources.push({
      type: "iam_policy",
      id: arn,
      // AWS-managed policies are the same object in every account: no parent, no per-account attrs.
      parentType: awsManaged ? null : "iam_account",
      parentId: awsManaged ? null : accountId,
      name: str(p, "PolicyName"),
      attrs: {
        awsManaged,
        policyId: optStr(p, "PolicyId"),
        path: optStr(p, "Path") ?? "/",
        description: optStr(p, "Description"),
        defaultVersionId: defaultVersion,
        document: decodePolicy(optStr(version, "Document")),
        // AttachmentCount is left out on purpose: it changes with every attachment, already a grant event.
      },
      // An AWS-managed policy is shared by every account: no one account's scope may sweep it, only the run.
      ...(awsManaged ? { scope: null } : {}),
    });
    rows.entitlements.push({
      id: iamPolicyAttachedEntitlementId(arn),
      resourceType: "iam_policy",
      resourceId: arn,
      slug: "attached",
      name: `${str(p, "PolicyName")} attached`,
      attrs: {},
      ...(awsManaged ? { scope: null } : {}),
    });
  }

  // One row per id: the writer upserts a batch in one statement, which must not touch a row twice.
  const once = <T>(xs: T[], k: (x: T) => string): T[] => [...new Map(xs.map((x) => [k(x), x])).values()];
  const batch = batchFor(res, {
    resources: once(rows.resources, (r) => `${r.type}/${r.id}`),
    entitlements: once(rows.entitlements, (e) => e.id),
    grants: once(rows.grants, (g) => g.id),
    children,
  });
  const warnings: string[] = [];
  if (batch.scopeComplete) {
    for (const [userArn, groupName] of pending)
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
        params: { ...next.params, iamCarry: { groups: carry.groups, pending } },
      });
  }
  return { ...batch, warnings: [...batch.warnings, ...warnings] };
}

/**
 * Keys are not written here: each key is written once, by its GetAccessKeyLastUsed task, which carries the
 * key's fields (writing it twice per run would report a spurious update every run).
 */
export function mapListAccessKeys(res: PageResult): ResultBatch {
  const UserArn = param(res.request, "UserArn");
  const UserName = param(res.request, "UserName");
  const batch = batchFor(res, {
    children: list(res.page, "AccessKeyMetadata").map((k) =>
      child(
        res.request,
        "iam",
        "GetAccessKeyLastUsed",
        {
          AccessKeyId: str(k, "AccessKeyId"),
          UserName: optStr(k, "UserName") ?? UserName,
          UserArn,
          Status: optStr(k, "Status"),
          CreateDate: optStr(k, "CreateDate"),
        },
        res.request.scope,
      ),
    ),
  });
  // The keys scope is shared by the account's users: never closed by a task (see the top of this file).
  return { ...batch, scopeComplete: false };
}

export function mapGetAccessKeyLastUsed(res: PageResult): ResultBatch {
  const id = param(res.request, "AccessKeyId");
  const userArn = param(res.request, "UserArn");
  const userName = param(res.request, "UserName");
  const lu = (res.page.AccessKeyLastUsed ?? {}) as Record<string, unknown>;
  const date = optStr(lu, "LastUsedDate");
  const service = optStr(lu, "ServiceName");
  const region = optStr(lu, "Region");
  return {
    ...batchFor(res, {
      resources: [
        {
          type: "access_key",
          id,
          parentType: "iam_user",
          parentId: userArn,
          name: `${userName}|${id}`,
          attrs: {
            status: optStr(res.request.params, "Status"),
            createDate: optStr(res.request.params, "CreateDate"),
            lastUsedDate: date ?? "never",
            lastUsedService: service === "N/A" ? null : service,
            lastUsedRegion: region === "N/A" ? null : region,
          },
        },
      ],
    }),
    // Never closes its scope: the account's other keys share it (see the top of this file).
    scopeComplete: false,
  };
}

/** The account as IAM sees it: its alias (AWS allows one) names it. Accounts themselves come from Organizations. */
export function mapListAccountAliases(res: PageResult): ResultBatch {
  const accountId = accountOf(res);
  const aliases = list<string>(res.page, "AccountAliases");
  if (res.request.pageIndex > 0) return batchFor(res, {});
  return batchFor(res, {
    resources: [
      {
        type: "iam_account",
        id: accountId,
        parentType: "account",
        parentId: accountId,
        name: aliases[0] ?? accountId,
        attrs: { aliases },
      },
    ],
  });
}
