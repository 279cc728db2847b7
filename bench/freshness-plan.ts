// The freshness benchmark's mutations: a seeded, mixed sequence of changes to aws-sim's organization, each with
// the one change event it must produce on the subscriber subject (`<type> <key>`, the e2e tests' event-key form).
// Every mutation touches a grant or resource no other mutation of the plan touches, so each event is unambiguous.
import {
  AWS_MANAGED_POLICIES,
  ACCESS_ROLE,
  AUDIT_ROLE,
  mulberry32,
  type AssignmentDoc,
  type IamRoleDoc,
  type OrgDocument,
} from "@grantline/aws-sim";
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

/** The CloudTrail event each kind records (aws-sim records it as AWS does, in the account that changed). */
export const TRAIL_EVENT: Record<MutationKind, string> = {
  "assignment-create": "CreateAccountAssignment",
  "assignment-delete": "DeleteAccountAssignment",
  "membership-add": "CreateGroupMembership",
  "membership-remove": "DeleteGroupMembership",
  "user-disable": "UpdateUser",
  "iam-attach": "AttachRolePolicy",
  "iam-detach": "DetachRolePolicy",
  "iam-trust": "UpdateAssumeRolePolicy",
  "scp-attach": "AttachPolicy",
};

export interface PlannedMutation {
  kind: MutationKind;
  /** aws-sim admin mutation: `POST /_sim/mutate/<name>` with `body`. */
  name: string;
  body: Record<string, unknown>;
  /** The change event it must produce: `grant.created <grantId>`, `resource.updated <type>/<id>`, … */
  expect: string;
}

type Pick = <T>(xs: readonly T[]) => T | undefined;
type Planner = (pick: Pick) => PlannedMutation | null;

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
  /**
   * The mutation, once its key is claimed — by key, whatever the event type, so a grant one mutation creates is
   * never revoked by another — with `apply` recording the change in the working copy; null if already claimed.
   */
  const plan = (
    kind: MutationKind,
    name: string,
    body: Record<string, unknown>,
    expect: string,
    apply: () => void,
  ): PlannedMutation | null => {
    const key = expect.slice(expect.indexOf(" ") + 1);
    if (claimed.has(key)) return null;
    claimed.add(key);
    apply();
    return { kind, name, body, expect };
  };
  const assignmentKey = (a: AssignmentDoc): string =>
    grantId(
      accountPermissionSetEntitlementId(a.accountId, a.permissionSetArn),
      a.principalType === "GROUP" ? "sso_group" : "sso_user",
      a.principalId,
    );
  const memberKey = (m: { groupId: string; userId: string }): string =>
    grantId(groupMemberEntitlementId(m.groupId), "sso_user", m.userId);
  const roleWith = (pick: Pick, ok: (r: IamRoleDoc) => boolean) => {
    const acct = pick(active.filter((a) => a.iam.roles.some((r) => mutableRole(r) && ok(r))));
    const role = acct && pick(acct.iam.roles.filter((r) => mutableRole(r) && ok(r)));
    return acct && role ? { acct, role, arn: iamArn(acct.id, "role", role) } : null;
  };
  /** Attach or detach a managed policy on a role: `grant.created|revoked` of its `attached` entitlement. */
  const rolePolicy = (kind: "iam-attach" | "iam-detach", pick: Pick): PlannedMutation | null => {
    const attach = kind === "iam-attach";
    const r = roleWith(pick, (x) => attach || x.attachedPolicies.length > 0);
    const policyArn = pick(attach ? [...AWS_MANAGED_POLICIES.keys()] : (r?.role.attachedPolicies ?? []));
    if (!r || !policyArn || (attach && r.role.attachedPolicies.includes(policyArn))) return null;
    const key = grantId(iamPolicyAttachedEntitlementId(policyArn), "iam_role", r.arn);
    const body = { accountId: r.acct.id, principalType: "role", principalName: r.role.name, policyArn };
    const list = r.role.attachedPolicies;
    return plan(
      kind,
      attach ? "attachPolicy" : "detachPolicy",
      body,
      `${attach ? "grant.created" : "grant.revoked"} ${key}`,
      () => (attach ? list.push(policyArn) : list.splice(list.indexOf(policyArn), 1)),
    );
  };
  return {
    "assignment-create": (pick) => {
      const ps = pick(ic?.permissionSets.filter((p) => p.provisionedTo.length) ?? []);
      const accountId = ps && pick(ps.provisionedTo);
      const group = pick([true, false]);
      const principalId = group ? pick(ic?.groups ?? [])?.groupId : pick(ic?.users ?? [])?.userId;
      if (!ic || !ps || !accountId || !principalId) return null;
      const a: AssignmentDoc = {
        accountId,
        permissionSetArn: ps.arn,
        principalType: group ? "GROUP" : "USER",
        principalId,
      };
      if (ic.assignments.some((x) => assignmentKey(x) === assignmentKey(a))) return null;
      return plan(
        "assignment-create",
        "createAccountAssignment",
        { ...a },
        `grant.created ${assignmentKey(a)}`,
        () => ic.assignments.push(a),
      );
    },
    "assignment-delete": (pick) => {
      const provisioned = new Set(
        ic?.permissionSets.flatMap((p) => p.provisionedTo.map((acct) => `${acct}|${p.arn}`)),
      );
      const a = pick(
        ic?.assignments.filter((x) => provisioned.has(`${x.accountId}|${x.permissionSetArn}`)) ?? [],
      );
      if (!ic || !a) return null;
      return plan(
        "assignment-delete",
        "deleteAccountAssignment",
        { ...a },
        `grant.revoked ${assignmentKey(a)}`,
        () => ic.assignments.splice(ic.assignments.indexOf(a), 1),
      );
    },
    "membership-add": (pick) => {
      const g = pick(ic?.groups ?? []);
      const u = pick(ic?.users ?? []);
      if (!ic || !g || !u) return null;
      const m = { groupId: g.groupId, userId: u.userId };
      if (ic.memberships.some((x) => memberKey(x) === memberKey(m))) return null;
      return plan("membership-add", "addGroupMembership", m, `grant.created ${memberKey(m)}`, () =>
        ic.memberships.push({ membershipId: "", ...m }),
      );
    },
    "membership-remove": (pick) => {
      // Only memberships the organization had: the plan's own additions have no id yet.
      const m = pick(ic?.memberships.filter((x) => x.membershipId) ?? []);
      if (!ic || !m) return null;
      const body = { groupId: m.groupId, userId: m.userId };
      return plan("membership-remove", "removeGroupMembership", body, `grant.revoked ${memberKey(m)}`, () =>
        ic.memberships.splice(ic.memberships.indexOf(m), 1),
      );
    },
    "user-disable": (pick) => {
      const u = pick(ic?.users.filter((x) => x.active) ?? []);
      if (!u) return null;
      return plan(
        "user-disable",
        "disableIdentityStoreUser",
        { userId: u.userId },
        `resource.updated sso_user/${u.userId}`,
        () => (u.active = false),
      );
    },
    "iam-attach": (pick) => rolePolicy("iam-attach", pick),
    "iam-detach": (pick) => rolePolicy("iam-detach", pick),
    "iam-trust": (pick) => {
      const r = roleWith(pick, () => true);
      const other = pick(active.filter((a) => a.iam.users.length));
      const user = other && pick(other.iam.users);
      if (!r || !other || !user) return null;
      // A new Allow for an IAM user of another account: the role's trust gains exactly that principal.
      const doc = JSON.parse(r.role.trustPolicy) as { Version?: string; Statement?: unknown };
      const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
      const next = JSON.stringify({
        Version: doc.Version ?? "2012-10-17",
        Statement: [
          ...statements,
          { Effect: "Allow", Principal: { AWS: iamArn(other.id, "user", user) }, Action: "sts:AssumeRole" },
        ],
      });
      const keyOf = (t: { principalType: PrincipalType; principalId: string }): string =>
        grantId(iamRoleAssignmentEntitlementId(r.arn), t.principalType, t.principalId);
      const before = new Set(evaluateTrust(r.role.trustPolicy).trusted.map(keyOf));
      const gained = evaluateTrust(next)
        .trusted.map(keyOf)
        .filter((k) => !before.has(k));
      if (gained.length !== 1) return null;
      const body = { accountId: r.acct.id, roleName: r.role.name, document: next };
      return plan("iam-trust", "updateAssumeRolePolicy", body, `grant.created ${gained[0]}`, () => {
        r.role.trustPolicy = next;
      });
    },
    "scp-attach": (pick) => {
      const enabled = new Set(
        org.roots.flatMap((r) => r.policyTypes.filter((t) => t.status === "ENABLED").map((t) => t.type)),
      );
      const policy = pick(org.policies.filter((p) => enabled.has(p.type)));
      const target = pick([...org.organizationalUnits.map((o) => o.id), ...active.map((a) => a.id)]);
      if (!policy || !target || policy.targets.includes(target)) return null;
      const type: PrincipalType = target.startsWith("ou-") ? "organizational_unit" : "account";
      const key = grantId(orgPolicyAttachedEntitlementId(policy.id), type, target);
      return plan(
        "scp-attach",
        "attachOrgPolicy",
        { policyId: policy.id, targetId: target },
        `grant.created ${key}`,
        () => policy.targets.push(target),
      );
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
  const rand = mulberry32(o.seed);
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
