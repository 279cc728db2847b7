// The freshness benchmark's mutations: a seeded, mixed sequence of changes to aws-sim's organization, each with
// the one change event it must produce on the subscriber subject (`<type> <key>`, the e2e tests' event-key form).
// Every mutation touches a grant or resource no other mutation of the plan touches, so each event is unambiguous.
import { AWS_MANAGED_POLICIES, ACCESS_ROLE, AUDIT_ROLE, type OrgDocument } from "@grantline/aws-sim";
import type { PrincipalType } from "@grantline/contracts";
import {
  accountPermissionSetEntitlementId,
  grantId,
  groupMemberEntitlementId,
  iamPolicyAttachedEntitlementId,
  iamRoleAssignmentEntitlementId,
  orgPolicyAttachedEntitlementId,
} from "@grantline/model";
import { evaluateTrust } from "@grantline/policy";

export const MUTATION_KINDS = [
  "assignment-create",
  "assignment-delete",
  "membership-add",
  "membership-remove",
  "user-disable",
  "iam-attach",
  "iam-detach",
  "iam-trust",
  "scp-attach",
] as const;
export type MutationKind = (typeof MUTATION_KINDS)[number];

export interface PlannedMutation {
  kind: MutationKind;
  /** aws-sim admin mutation: `POST /_sim/mutate/<name>` with `body`. */
  name: string;
  body: Record<string, unknown>;
  /** The change event it must produce: `grant.created <grantId>`, `resource.updated <type>/<id>`, … */
  expect: string;
}

/** A small seeded PRNG (mulberry32): the same seed plans the same mutations of the same organization. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Planner = (pick: <T>(xs: readonly T[]) => T | undefined) => PlannedMutation | null;

const iamArn = (account: string, kind: string, x: { path: string; name: string }): string =>
  `arn:aws:iam::${account}:${kind}${x.path}${x.name}`;

/** Roles a mutation may change: not Identity Center's reserved roles, not the roles the sync itself assumes. */
const mutableRole = (r: { name: string; path: string }): boolean =>
  !r.path.startsWith("/aws-reserved/") && r.name !== ACCESS_ROLE && r.name !== AUDIT_ROLE;

/**
 * The planners, one per kind, over a working copy of the organization: each records what it changed in `org` so
 * a later mutation sees the state after the earlier ones, and each claims its key so no two mutations share one.
 */
function planners(org: OrgDocument, claimed: Set<string>): Record<MutationKind, Planner> {
  const ic = org.identityCenter;
  const active = org.accounts.filter((a) => a.status === "ACTIVE");
  // Claimed by key, whatever the event type: a grant created by one mutation is never revoked by another.
  const claim = (expect: string): boolean => {
    const key = expect.slice(expect.indexOf(" ") + 1);
    if (claimed.has(key)) return false;
    claimed.add(key);
    return true;
  };
  const assignmentKey = (a: {
    accountId: string;
    permissionSetArn: string;
    principalType: string;
    principalId: string;
  }) =>
    grantId(
      accountPermissionSetEntitlementId(a.accountId, a.permissionSetArn),
      a.principalType === "GROUP" ? "sso_group" : "sso_user",
      a.principalId,
    );
  return {
    "assignment-create": (pick) => {
      const ps = pick(ic?.permissionSets.filter((p) => p.provisionedTo.length) ?? []);
      const accountId = ps && pick(ps.provisionedTo);
      const group = pick([true, false]);
      const principalId = group ? pick(ic?.groups ?? [])?.groupId : pick(ic?.users ?? [])?.userId;
      if (!ic || !ps || !accountId || !principalId) return null;
      const a = {
        accountId,
        permissionSetArn: ps.arn,
        principalType: group ? ("GROUP" as const) : ("USER" as const),
        principalId,
      };
      const exists = ic.assignments.some((x) => assignmentKey(x) === assignmentKey(a));
      if (exists || !claim(`grant.created ${assignmentKey(a)}`)) return null;
      ic.assignments.push(a);
      return {
        kind: "assignment-create",
        name: "createAccountAssignment",
        body: a,
        expect: `grant.created ${assignmentKey(a)}`,
      };
    },
    "assignment-delete": (pick) => {
      const provisioned = new Set(
        ic?.permissionSets.flatMap((p) => p.provisionedTo.map((acct) => `${acct}|${p.arn}`)),
      );
      const a = pick(
        ic?.assignments.filter((x) => provisioned.has(`${x.accountId}|${x.permissionSetArn}`)) ?? [],
      );
      if (!ic || !a || !claim(`grant.revoked ${assignmentKey(a)}`)) return null;
      ic.assignments.splice(ic.assignments.indexOf(a), 1);
      return {
        kind: "assignment-delete",
        name: "deleteAccountAssignment",
        body: { ...a },
        expect: `grant.revoked ${assignmentKey(a)}`,
      };
    },
    "membership-add": (pick) => {
      const g = pick(ic?.groups ?? []);
      const u = pick(ic?.users ?? []);
      if (!ic || !g || !u || ic.memberships.some((m) => m.groupId === g.groupId && m.userId === u.userId))
        return null;
      const expect = `grant.created ${grantId(groupMemberEntitlementId(g.groupId), "sso_user", u.userId)}`;
      if (!claim(expect)) return null;
      ic.memberships.push({ membershipId: "", groupId: g.groupId, userId: u.userId });
      return {
        kind: "membership-add",
        name: "addGroupMembership",
        body: { groupId: g.groupId, userId: u.userId },
        expect,
      };
    },
    "membership-remove": (pick) => {
      const m = pick(ic?.memberships.filter((x) => x.membershipId) ?? []);
      if (!ic || !m) return null;
      const expect = `grant.revoked ${grantId(groupMemberEntitlementId(m.groupId), "sso_user", m.userId)}`;
      if (!claim(expect)) return null;
      ic.memberships.splice(ic.memberships.indexOf(m), 1);
      return {
        kind: "membership-remove",
        name: "removeGroupMembership",
        body: { groupId: m.groupId, userId: m.userId },
        expect,
      };
    },
    "user-disable": (pick) => {
      const u = pick(ic?.users.filter((x) => x.active) ?? []);
      if (!u || !claim(`resource.updated sso_user/${u.userId}`)) return null;
      u.active = false;
      return {
        kind: "user-disable",
        name: "disableIdentityStoreUser",
        body: { userId: u.userId },
        expect: `resource.updated sso_user/${u.userId}`,
      };
    },
    "iam-attach": (pick) => {
      const acct = pick(active.filter((a) => a.iam.roles.some(mutableRole)));
      const role = acct && pick(acct.iam.roles.filter(mutableRole));
      const policyArn = pick([...AWS_MANAGED_POLICIES.keys()]);
      if (!acct || !role || !policyArn || role.attachedPolicies.includes(policyArn)) return null;
      const roleArn = iamArn(acct.id, "role", role);
      const expect = `grant.created ${grantId(iamPolicyAttachedEntitlementId(policyArn), "iam_role", roleArn)}`;
      if (!claim(expect)) return null;
      role.attachedPolicies.push(policyArn);
      const body = { accountId: acct.id, principalType: "role", principalName: role.name, policyArn };
      return { kind: "iam-attach", name: "attachPolicy", body, expect };
    },
    "iam-detach": (pick) => {
      const acct = pick(
        active.filter((a) => a.iam.roles.some((r) => mutableRole(r) && r.attachedPolicies.length)),
      );
      const role = acct && pick(acct.iam.roles.filter((r) => mutableRole(r) && r.attachedPolicies.length));
      const policyArn = role && pick(role.attachedPolicies);
      if (!acct || !role || !policyArn) return null;
      const roleArn = iamArn(acct.id, "role", role);
      const expect = `grant.revoked ${grantId(iamPolicyAttachedEntitlementId(policyArn), "iam_role", roleArn)}`;
      if (!claim(expect)) return null;
      role.attachedPolicies.splice(role.attachedPolicies.indexOf(policyArn), 1);
      const body = { accountId: acct.id, principalType: "role", principalName: role.name, policyArn };
      return { kind: "iam-detach", name: "detachPolicy", body, expect };
    },
    "iam-trust": (pick) => {
      const acct = pick(active.filter((a) => a.iam.roles.some(mutableRole)));
      const role = acct && pick(acct.iam.roles.filter(mutableRole));
      const other = pick(active.filter((a) => a.iam.users.length));
      const user = other && pick(other.iam.users);
      if (!acct || !role || !other || !user) return null;
      // A new Allow for an IAM user of another account: the role's trust gains exactly that principal.
      const doc = JSON.parse(role.trustPolicy) as { Version?: string; Statement?: unknown };
      const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
      const next = JSON.stringify({
        Version: doc.Version ?? "2012-10-17",
        Statement: [
          ...statements,
          { Effect: "Allow", Principal: { AWS: iamArn(other.id, "user", user) }, Action: "sts:AssumeRole" },
        ],
      });
      const keyOf = (t: { principalType: PrincipalType; principalId: string }): string =>
        grantId(
          iamRoleAssignmentEntitlementId(iamArn(acct.id, "role", role)),
          t.principalType,
          t.principalId,
        );
      const before = new Set(evaluateTrust(role.trustPolicy).trusted.map(keyOf));
      const gained = evaluateTrust(next)
        .trusted.map(keyOf)
        .filter((k) => !before.has(k));
      const expect = gained[0] && `grant.created ${gained[0]}`;
      if (gained.length !== 1 || !expect || !claim(expect)) return null;
      role.trustPolicy = next;
      const body = { accountId: acct.id, roleName: role.name, document: next };
      return { kind: "iam-trust", name: "updateAssumeRolePolicy", body, expect };
    },
    "scp-attach": (pick) => {
      const enabled = new Set(
        org.roots.flatMap((r) => r.policyTypes.filter((t) => t.status === "ENABLED").map((t) => t.type)),
      );
      const policy = pick(org.policies.filter((p) => enabled.has(p.type)));
      const target = pick([...org.organizationalUnits.map((o) => o.id), ...active.map((a) => a.id)]);
      if (!policy || !target || policy.targets.includes(target)) return null;
      const type: PrincipalType = target.startsWith("ou-") ? "organizational_unit" : "account";
      const expect = `grant.created ${grantId(orgPolicyAttachedEntitlementId(policy.id), type, target)}`;
      if (!claim(expect)) return null;
      policy.targets.push(target);
      return {
        kind: "scp-attach",
        name: "attachOrgPolicy",
        body: { policyId: policy.id, targetId: target },
        expect,
      };
    },
  };
}

/**
 * `count` mutations cycling through `kinds` (every kind by default), targets drawn with a PRNG seeded by `seed`.
 * A kind the organization cannot serve (no SCP type enabled, no Identity Center) is skipped; `org` is not changed.
 */
export function planMutations(
  org: OrgDocument,
  o: { count: number; seed: number; kinds?: readonly MutationKind[] },
): PlannedMutation[] {
  const work = structuredClone(org);
  const rand = prng(o.seed);
  const pick = <T>(xs: readonly T[]): T | undefined => xs[Math.floor(rand() * xs.length)];
  const plan = planners(work, new Set());
  const kinds = [...(o.kinds ?? MUTATION_KINDS)];
  const out: PlannedMutation[] = [];
  const ATTEMPTS = 50;
  for (let i = 0; out.length < o.count && kinds.length; i++) {
    const kind = kinds[i % kinds.length]!;
    let m: PlannedMutation | null = null;
    for (let a = 0; a < ATTEMPTS && !m; a++) m = plan[kind](pick);
    if (m) out.push(m);
    else kinds.splice(kinds.indexOf(kind), 1);
  }
  return out;
}
