import type { OrgDocument } from "@grantline/aws-sim";
import { accountPermissionSetEntitlementId, grantId, groupMemberEntitlementId } from "@grantline/model";

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
