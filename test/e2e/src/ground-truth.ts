import { AWS_MANAGED_POLICIES, type OrgDocument } from "@grantline/aws-sim";
import type { PrincipalType } from "@grantline/contracts";
import { isDerivedGrant } from "@grantline/db";
import {
  accountPermissionSetEntitlementId,
  grantId,
  groupMemberEntitlementId,
  iamGroupMemberEntitlementId,
  iamPolicyAttachedEntitlementId,
  iamRoleAssignmentEntitlementId,
  inlinePolicyAttachedEntitlementId,
  inlinePolicyId,
} from "@grantline/model";
import { evaluateTrust } from "@grantline/policy";

/** What a row must look like, independent of how the pipeline got it. */
export interface ExpectedRows {
  resources: Map<string, { name: string; parent: string | null }>;
  entitlements: Set<string>;
  grants: Set<string>;
}

const key = (type: string, id: string) => `${type}/${id}`;

/**
 * The access graph aws-sim's exported organization implies, built straight from the document (not through the
 * mappers) so a mapper bug cannot hide in both sides of the comparison.
 */
export function expectedRows(org: OrgDocument): ExpectedRows {
  const resources = new Map<string, { name: string; parent: string | null }>();
  const entitlements = new Set<string>();
  const grants = new Set<string>();
  const parentKey = (id: string) => (id.startsWith("r-") ? key("root", id) : key("organizational_unit", id));

  resources.set(key("organization", org.organization.id), { name: org.organization.id, parent: null });
  for (const r of org.roots)
    resources.set(key("root", r.id), { name: r.name, parent: key("organization", org.organization.id) });
  for (const ou of org.organizationalUnits)
    resources.set(key("organizational_unit", ou.id), { name: ou.name, parent: parentKey(ou.parentId) });
  for (const a of org.accounts)
    resources.set(key("account", a.id), { name: a.name, parent: parentKey(a.parentId) });

  const ic = org.identityCenter;
  if (ic) {
    resources.set(key("sso_instance", ic.instanceArn), { name: ic.name ?? ic.instanceArn, parent: null });
    for (const u of ic.users) resources.set(key("sso_user", u.userId), { name: u.userName, parent: null });
    for (const g of ic.groups) {
      resources.set(key("sso_group", g.groupId), { name: g.displayName, parent: null });
      entitlements.add(groupMemberEntitlementId(g.groupId));
    }
    for (const m of ic.memberships)
      grants.add(grantId(groupMemberEntitlementId(m.groupId), "sso_user", m.userId));
    const provisioned = new Set<string>();
    for (const ps of ic.permissionSets) {
      resources.set(key("permission_set", ps.arn), {
        name: ps.name,
        parent: key("sso_instance", ic.instanceArn),
      });
      for (const a of org.accounts) entitlements.add(accountPermissionSetEntitlementId(a.id, ps.arn));
      for (const acct of ps.provisionedTo) provisioned.add(`${acct}|${ps.arn}`);
    }
    for (const a of ic.assignments) {
      if (!provisioned.has(`${a.accountId}|${a.permissionSetArn}`)) continue;
      const ent = accountPermissionSetEntitlementId(a.accountId, a.permissionSetArn);
      grants.add(grantId(ent, a.principalType === "GROUP" ? "sso_group" : "sso_user", a.principalId));
    }
  }
  return { resources, entitlements, grants };
}

/**
 * The IAM rows of `accounts` (default: every ACTIVE account — the ones whose OrganizationAccountAccessRole the
 * sync can assume), straight from the document. Trust policies are read here with their own small parser.
 */
export function expectedIamRows(
  org: OrgDocument,
  o: { accounts?: string[]; onlyAttachedPolicies?: boolean } = {},
): ExpectedRows {
  const resources = new Map<string, { name: string; parent: string | null }>();
  const entitlements = new Set<string>();
  const grants = new Set<string>();
  const onlyAttached = o.onlyAttachedPolicies ?? true;
  const wanted = o.accounts ?? org.accounts.filter((a) => a.status === "ACTIVE").map((a) => a.id);
  for (const acct of org.accounts) {
    if (!wanted.includes(acct.id)) continue;
    const iam = acct.iam;
    const arn = (kind: string, x: { path: string; name: string }) =>
      `arn:aws:iam::${acct.id}:${kind}${x.path}${x.name}`;
    const acctKey = key("iam_account", acct.id);
    resources.set(acctKey, { name: iam.aliases[0] ?? acct.id, parent: key("account", acct.id) });
    const groupArns = new Map(iam.groups.map((g) => [g.name, arn("group", g)]));
    const principals: Array<{
      type: "iam_user" | "iam_group" | "iam_role";
      arn: string;
      attached: string[];
      inline: Array<{ name: string }>;
    }> = [];
    for (const u of iam.users) {
      const a = arn("user", u);
      resources.set(key("iam_user", a), { name: u.name, parent: acctKey });
      principals.push({ type: "iam_user", arn: a, attached: u.attachedPolicies, inline: u.inlinePolicies });
      for (const g of u.groups) {
        const ga = groupArns.get(g);
        if (ga) grants.add(grantId(iamGroupMemberEntitlementId(ga), "iam_user", a));
      }
      for (const k of u.accessKeys)
        resources.set(key("access_key", k.id), { name: `${u.name}|${k.id}`, parent: key("iam_user", a) });
    }
    for (const g of iam.groups) {
      const a = arn("group", g);
      resources.set(key("iam_group", a), { name: g.name, parent: acctKey });
      entitlements.add(iamGroupMemberEntitlementId(a));
      principals.push({ type: "iam_group", arn: a, attached: g.attachedPolicies, inline: g.inlinePolicies });
    }
    for (const r of iam.roles) {
      const a = arn("role", r);
      resources.set(key("iam_role", a), { name: r.name, parent: acctKey });
      const ent = iamRoleAssignmentEntitlementId(a);
      entitlements.add(ent);
      principals.push({ type: "iam_role", arn: a, attached: r.attachedPolicies, inline: r.inlinePolicies });
      for (const [t, id] of trustedBy(r.trustPolicy)) grants.add(grantId(ent, t, id));
    }
    const attachments = new Map<string, number>();
    for (const p of principals) {
      for (const pa of p.attached) {
        attachments.set(pa, (attachments.get(pa) ?? 0) + 1);
        grants.add(grantId(iamPolicyAttachedEntitlementId(pa), p.type, p.arn));
      }
      for (const inl of p.inline) {
        const id = inlinePolicyId(p.arn, inl.name);
        resources.set(key("inline_policy", id), { name: inl.name, parent: key(p.type, p.arn) });
        entitlements.add(inlinePolicyAttachedEntitlementId(id));
        grants.add(grantId(inlinePolicyAttachedEntitlementId(id), p.type, p.arn));
      }
    }
    for (const p of iam.policies) {
      const a = arn("policy", p);
      if (onlyAttached && !attachments.get(a)) continue;
      resources.set(key("iam_policy", a), { name: p.name, parent: acctKey });
      entitlements.add(iamPolicyAttachedEntitlementId(a));
    }
    for (const a of attachments.keys()) {
      const m = AWS_MANAGED_POLICIES.get(a);
      if (!m) continue;
      resources.set(key("iam_policy", a), { name: m.name, parent: null });
      entitlements.add(iamPolicyAttachedEntitlementId(a));
    }
  }
  return { resources, entitlements, grants };
}

/**
 * `[principalType, principalId]` of who a trust policy lets assume the role, by the AWS rules (Deny honoured,
 * SAML/WebIdentity federation included). @grantline/policy is unit-tested against those rules on its own, so the
 * ground truth reuses it rather than a second, weaker parser.
 */
function trustedBy(policy: string): Array<[PrincipalType, string]> {
  return evaluateTrust(policy).trusted.map((t) => [t.principalType, t.principalId]);
}

/** Both sets of rows together (e.g. Organizations + Identity Center and IAM). */
export function mergeRows(...parts: ExpectedRows[]): ExpectedRows {
  return {
    resources: new Map(parts.flatMap((p) => [...p.resources])),
    entitlements: new Set(parts.flatMap((p) => [...p.entitlements])),
    grants: new Set(parts.flatMap((p) => [...p.grants])),
  };
}

export interface ActualRows {
  resources: Array<{
    type: string;
    id: string;
    name: string;
    parent_type: string | null;
    parent_id: string | null;
  }>;
  entitlements: Array<{ id: string }>;
  grants: Array<{ id: string }>;
}

/** Differences, as readable lines (empty when equal), capped so a failure stays legible. */
export function diffRows(
  expected: ExpectedRows,
  actual: ActualRows,
  only?: (type: string) => boolean,
): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const r of actual.resources) {
    if (only && !only(r.type)) continue;
    const k = key(r.type, r.id);
    seen.add(k);
    const e = expected.resources.get(k);
    const parent = r.parent_type && r.parent_id ? key(r.parent_type, r.parent_id) : null;
    if (!e) out.push(`extra resource ${k}`);
    else if (e.name !== r.name || e.parent !== parent)
      out.push(`resource ${k}: got ${r.name} under ${parent}, want ${e.name} under ${e.parent}`);
  }
  for (const k of expected.resources.keys())
    if (!seen.has(k) && (!only || only(k.split("/")[0] ?? ""))) out.push(`missing resource ${k}`);
  const cmp = (what: string, want: Set<string>, got: string[]) => {
    const g = new Set(got);
    for (const x of got) if (!want.has(x)) out.push(`extra ${what} ${x}`);
    for (const x of want) if (!g.has(x)) out.push(`missing ${what} ${x}`);
  };
  cmp(
    "entitlement",
    expected.entitlements,
    actual.entitlements.map((e) => e.id),
  );
  cmp(
    "grant",
    expected.grants,
    actual.grants.map((g) => g.id),
  );
  return out.length > 30 ? [...out.slice(0, 30), `… and ${out.length - 30} more`] : out;
}

/**
 * The change events two ground truths imply, as sorted `<type> <key>` strings (compare with `changeEventKeys`).
 * `updated` names resources whose change the rows cannot show (a policy document edit keeps name and parent).
 */
export function expectedEventKeys(
  before: ExpectedRows,
  after: ExpectedRows,
  updated: string[] = [],
): string[] {
  const out: string[] = [];
  for (const k of after.resources.keys()) if (!before.resources.has(k)) out.push(`resource.created ${k}`);
  for (const k of before.resources.keys()) if (!after.resources.has(k)) out.push(`resource.deleted ${k}`);
  for (const [k, v] of after.resources) {
    const b = before.resources.get(k);
    if (b && (b.name !== v.name || b.parent !== v.parent || updated.includes(k)))
      out.push(`resource.updated ${k}`);
  }
  for (const g of after.grants) if (!before.grants.has(g)) out.push(`grant.created ${g}`);
  for (const g of before.grants) if (!after.grants.has(g)) out.push(`grant.revoked ${g}`);
  return out.sort();
}

/** A run's change events (run.* and derived grants' left out: AWS lists neither) as sorted `<type> <key>` strings. */
export function changeEventKeys(events: Array<{ type: string; data: Record<string, unknown> }>): string[] {
  return events
    .filter((e) => !e.type.startsWith("dev.grantline.run.") && !isDerivedGrant(e.data.attrs))
    .map((e) => {
      const d = e.data;
      const what = e.type.replace("dev.grantline.", "");
      return what.startsWith("grant.")
        ? `${what} ${String(d.grantId)}`
        : `${what} ${String(d.resourceType)}/${String(d.resourceId)}`;
    })
    .sort();
}
