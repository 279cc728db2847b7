// Random, valid aws-sim mutations of every kind the simulator has, generated from its current state: the
// freshness property and crash tests drive the incremental sync with them.
import {
  ACCESS_ROLE,
  AUDIT_ROLE,
  AWS_MANAGED_POLICIES,
  SYNC_USER,
  type AwsSim,
  type OrgDocument,
  type SimMutations,
} from "@grantline/aws-sim";

export type MutationKind = keyof SimMutations;

/** One mutation: the admin call's name and its argument. */
export interface SimMutation {
  kind: MutationKind;
  args: Record<string, unknown>;
}

/** A seeded PRNG (mulberry32): a seed printed on failure replays the same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = Math.imul(state ^ (state >>> 15), state | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

type Pick = <T>(xs: readonly T[]) => T | undefined;
type Generator = (org: OrgDocument, pick: Pick, n: number) => Record<string, unknown> | null;
type Account = OrgDocument["accounts"][number];
type IamDoc = Account["iam"];

const MANAGED = [...AWS_MANAGED_POLICIES.keys()];

/** Roles and users the sync itself signs in with or assumes, and Identity Center's reserved roles: never touched. */
const mutableRole = (r: { name: string; path: string }): boolean =>
  !r.path.startsWith("/aws-reserved/") &&
  !r.path.startsWith("/aws-service-role/") &&
  r.name !== ACCESS_ROLE &&
  r.name !== AUDIT_ROLE;
const mutableUser = (u: { name: string }): boolean => u.name !== SYNC_USER;

const policy = (action: string, principal?: Record<string, unknown>): string =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        ...(principal
          ? { Principal: principal, Action: "sts:AssumeRole" }
          : { Action: action, Resource: "*" }),
      },
    ],
  });

/** An IAM principal (user, group or role) of an ACTIVE account that `ok` accepts. */
function iamPrincipal(
  org: OrgDocument,
  pick: Pick,
  ok: (p: { attachedPolicies: string[]; inlinePolicies: unknown[] }) => boolean,
): {
  accountId: string;
  principalType: "user" | "group" | "role";
  principalName: string;
  iam: IamDoc;
} | null {
  const candidates = active(org).flatMap((a) => [
    ...a.iam.users
      .filter((u) => mutableUser(u) && ok(u))
      .map((u) => ({ a, type: "user" as const, name: u.name })),
    ...a.iam.groups.filter(ok).map((g) => ({ a, type: "group" as const, name: g.name })),
    ...a.iam.roles
      .filter((r) => mutableRole(r) && ok(r))
      .map((r) => ({ a, type: "role" as const, name: r.name })),
  ]);
  const c = pick(candidates);
  return c ? { accountId: c.a.id, principalType: c.type, principalName: c.name, iam: c.a.iam } : null;
}

const active = (org: OrgDocument): Account[] => org.accounts.filter((a) => a.status === "ACTIVE");
const members = (org: OrgDocument): Account[] =>
  org.accounts.filter((a) => a.id !== org.organization.managementAccountId);
const parents = (org: OrgDocument): string[] => [
  ...org.roots.map((r) => r.id),
  ...org.organizationalUnits.map((o) => o.id),
];

/** Each generator returns a valid argument for the current state, or null when the state offers none. */
const GENERATORS: Record<MutationKind, Generator> = {
  createIdentityStoreUser: (_org, _pick, n) => ({
    userName: `prop-user-${n}`,
    displayName: `Prop User ${n}`,
    givenName: "Prop",
    familyName: `User${n}`,
    email: `prop-user-${n}@example.com`,
  }),
  deleteIdentityStoreUser: (org, pick) => {
    const u = pick(org.identityCenter?.users ?? []);
    return u ? { userId: u.userId } : null;
  },
  disableIdentityStoreUser: (org, pick) => {
    const u = pick(org.identityCenter?.users.filter((x) => x.active) ?? []);
    return u ? { userId: u.userId } : null;
  },
  enableIdentityStoreUser: (org, pick) => {
    const u = pick(org.identityCenter?.users.filter((x) => !x.active) ?? []);
    return u ? { userId: u.userId } : null;
  },
  createIdentityStoreGroup: (_org, _pick, n) => ({ displayName: `prop-group-${n}`, description: "property" }),
  deleteIdentityStoreGroup: (org, pick) => {
    const g = pick(org.identityCenter?.groups ?? []);
    return g ? { groupId: g.groupId } : null;
  },
  addGroupMembership: (org, pick) => {
    const ic = org.identityCenter;
    const g = pick(ic?.groups ?? []);
    const u = pick(ic?.users ?? []);
    if (!ic || !g || !u || ic.memberships.some((m) => m.groupId === g.groupId && m.userId === u.userId))
      return null;
    return { groupId: g.groupId, userId: u.userId };
  },
  removeGroupMembership: (org, pick) => {
    const m = pick(org.identityCenter?.memberships ?? []);
    return m ? { groupId: m.groupId, userId: m.userId } : null;
  },
  createPermissionSet: (org, pick, n) => {
    const acct = pick(active(org));
    return {
      name: `prop-ps-${n}`,
      description: "property",
      managedPolicies: [pick(MANAGED)],
      inlinePolicy: policy("s3:GetObject"),
      provisionTo: acct ? [acct.id] : [],
    };
  },
  deletePermissionSet: (org, pick) => {
    const ps = pick(org.identityCenter?.permissionSets ?? []);
    return ps ? { permissionSetArn: ps.arn } : null;
  },
  provisionPermissionSet: (org, pick) => {
    const ps = pick(org.identityCenter?.permissionSets ?? []);
    const acct = ps && pick(active(org).filter((a) => !ps.provisionedTo.includes(a.id)));
    return ps && acct ? { permissionSetArn: ps.arn, accountId: acct.id } : null;
  },
  putPermissionSetBoundary: (org, pick) => {
    const ps = pick(org.identityCenter?.permissionSets ?? []);
    return ps ? { permissionSetArn: ps.arn, boundary: { managedPolicyArn: pick(MANAGED) } } : null;
  },
  deletePermissionSetBoundary: (org, pick) => {
    const ps = pick(org.identityCenter?.permissionSets.filter((p) => p.permissionsBoundary) ?? []);
    return ps ? { permissionSetArn: ps.arn } : null;
  },
  createAccountAssignment: (org, pick) => {
    const ic = org.identityCenter;
    const ps = pick(ic?.permissionSets.filter((p) => p.provisionedTo.length > 0) ?? []);
    const accountId = ps && pick(ps.provisionedTo);
    const group = pick([true, false]);
    const principalId = group ? pick(ic?.groups ?? [])?.groupId : pick(ic?.users ?? [])?.userId;
    if (!ic || !ps || !accountId || !principalId) return null;
    const a = { accountId, permissionSetArn: ps.arn, principalType: group ? "GROUP" : "USER", principalId };
    const same = (x: typeof a) =>
      x.accountId === a.accountId &&
      x.permissionSetArn === a.permissionSetArn &&
      x.principalId === principalId;
    return ic.assignments.some(same) ? null : a;
  },
  deleteAccountAssignment: (org, pick) => {
    const a = pick(org.identityCenter?.assignments ?? []);
    return a ? { ...a } : null;
  },
  createAccount: (org, pick, n) => ({
    name: `prop-account-${n}`,
    email: `prop-account-${n}@example.com`,
    parentId: pick(parents(org)),
  }),
  removeAccount: (org, pick) => {
    const a = pick(members(org));
    return a ? { accountId: a.id } : null;
  },
  setAccountStatus: (org, pick) => {
    const a = pick(members(org));
    return a ? { accountId: a.id, status: a.status === "ACTIVE" ? "SUSPENDED" : "ACTIVE" } : null;
  },
  createOrgPolicy: (org, pick, n) => ({
    name: `prop-scp-${n}`,
    content: JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Deny", Action: "ec2:*", Resource: "*" }],
    }),
    targets: [pick([...parents(org), ...org.accounts.map((a) => a.id)])],
  }),
  attachOrgPolicy: (org, pick) => {
    const p = pick(org.policies.filter((x) => !x.awsManaged));
    const t =
      p && pick([...parents(org), ...org.accounts.map((a) => a.id)].filter((x) => !p.targets.includes(x)));
    return p && t ? { policyId: p.id, targetId: t } : null;
  },
  detachOrgPolicy: (org, pick) => {
    const p = pick(org.policies.filter((x) => !x.awsManaged && x.targets.length > 0));
    const t = p && pick(p.targets);
    return p && t ? { policyId: p.id, targetId: t } : null;
  },
  createIamUser: (org, pick, n) => {
    const a = pick(active(org));
    return a ? { accountId: a.id, userName: `prop-iam-user-${n}` } : null;
  },
  deleteIamUser: (org, pick) => {
    const a = pick(active(org).filter((x) => x.iam.users.some(mutableUser)));
    const u = a && pick(a.iam.users.filter(mutableUser));
    return a && u ? { accountId: a.id, userName: u.name } : null;
  },
  createIamGroup: (org, pick, n) => {
    const a = pick(active(org));
    return a ? { accountId: a.id, groupName: `prop-iam-group-${n}` } : null;
  },
  deleteIamGroup: (org, pick) => {
    const a = pick(active(org).filter((x) => x.iam.groups.length > 0));
    const g = a && pick(a.iam.groups);
    return a && g ? { accountId: a.id, groupName: g.name } : null;
  },
  addIamUserToGroup: (org, pick) => {
    const a = pick(active(org).filter((x) => x.iam.groups.length > 0 && x.iam.users.some(mutableUser)));
    const u = a && pick(a.iam.users.filter(mutableUser));
    const g = a && u && pick(a.iam.groups.filter((x) => !u.groups.includes(x.name)));
    return a && u && g ? { accountId: a.id, groupName: g.name, userName: u.name } : null;
  },
  removeIamUserFromGroup: (org, pick) => {
    const a = pick(active(org).filter((x) => x.iam.users.some((u) => mutableUser(u) && u.groups.length)));
    const u = a && pick(a.iam.users.filter((x) => mutableUser(x) && x.groups.length));
    const g = u && pick(u.groups);
    return a && u && g ? { accountId: a.id, groupName: g, userName: u.name } : null;
  },
  createIamRole: (org, pick, n) => {
    const a = pick(active(org));
    const from = pick(org.accounts);
    return a && from
      ? {
          accountId: a.id,
          roleName: `prop-role-${n}`,
          trustPolicy: policy("", { AWS: `arn:aws:iam::${from.id}:root` }),
        }
      : null;
  },
  deleteIamRole: (org, pick) => {
    const a = pick(active(org).filter((x) => x.iam.roles.some(mutableRole)));
    const r = a && pick(a.iam.roles.filter(mutableRole));
    return a && r ? { accountId: a.id, roleName: r.name } : null;
  },
  updateAssumeRolePolicy: (org, pick) => {
    const a = pick(active(org).filter((x) => x.iam.roles.some(mutableRole)));
    const r = a && pick(a.iam.roles.filter(mutableRole));
    const from = pick(org.accounts);
    return a && r && from
      ? { accountId: a.id, roleName: r.name, document: policy("", { AWS: `arn:aws:iam::${from.id}:root` }) }
      : null;
  },
  attachPolicy: (org, pick) => {
    const arn = pick(MANAGED);
    const p = arn ? iamPrincipal(org, pick, (x) => !x.attachedPolicies.includes(arn)) : null;
    return p && arn ? { ...withoutIam(p), policyArn: arn } : null;
  },
  detachPolicy: (org, pick) => {
    const p = iamPrincipal(org, pick, (x) => x.attachedPolicies.length > 0);
    const held = p && principalDoc(p)?.attachedPolicies;
    const arn = held && pick(held);
    return p && arn ? { ...withoutIam(p), policyArn: arn } : null;
  },
  putInlinePolicy: (org, pick, n) => {
    const p = iamPrincipal(org, pick, () => true);
    return p ? { ...withoutIam(p), policyName: `prop-inline-${n}`, document: policy("s3:ListBucket") } : null;
  },
  deleteInlinePolicy: (org, pick) => {
    const p = iamPrincipal(org, pick, (x) => x.inlinePolicies.length > 0);
    const held = p && principalDoc(p)?.inlinePolicies;
    const name = held && pick(held)?.name;
    return p && name ? { ...withoutIam(p), policyName: name } : null;
  },
  putPermissionsBoundary: (org, pick) => {
    const p = iamPrincipal(org, pick, () => true);
    return p && p.principalType !== "group"
      ? {
          accountId: p.accountId,
          principal: p.principalType,
          name: p.principalName,
          policyArn: pick(MANAGED),
        }
      : null;
  },
  deletePermissionsBoundary: (org, pick) => {
    const a = pick(
      active(org).filter((x) =>
        [...x.iam.users.filter(mutableUser), ...x.iam.roles.filter(mutableRole)].some(
          (y) => y.permissionsBoundary,
        ),
      ),
    );
    const u = a && pick(a.iam.users.filter((x) => mutableUser(x) && x.permissionsBoundary));
    const r = a && pick(a.iam.roles.filter((x) => mutableRole(x) && x.permissionsBoundary));
    if (!a) return null;
    if (u && (!r || pick([true, false]))) return { accountId: a.id, principal: "user", name: u.name };
    return r ? { accountId: a.id, principal: "role", name: r.name } : null;
  },
  createAccessKey: (org, pick) => {
    const a = pick(
      active(org).filter((x) => x.iam.users.some((u) => mutableUser(u) && u.accessKeys.length < 2)),
    );
    const u = a && pick(a.iam.users.filter((x) => mutableUser(x) && x.accessKeys.length < 2));
    return a && u ? { accountId: a.id, userName: u.name } : null;
  },
  updateAccessKey: (org, pick) => {
    const k = accessKey(org, pick);
    return k
      ? { accountId: k.accountId, accessKeyId: k.id, status: k.status === "Active" ? "Inactive" : "Active" }
      : null;
  },
  deleteAccessKey: (org, pick) => {
    const k = accessKey(org, pick);
    return k ? { accountId: k.accountId, accessKeyId: k.id } : null;
  },
};

function withoutIam(p: { accountId: string; principalType: string; principalName: string }) {
  return { accountId: p.accountId, principalType: p.principalType, principalName: p.principalName };
}

function principalDoc(p: { principalType: "user" | "group" | "role"; principalName: string; iam: IamDoc }) {
  const all =
    p.principalType === "user" ? p.iam.users : p.principalType === "group" ? p.iam.groups : p.iam.roles;
  return all.find((x) => x.name === p.principalName);
}

function accessKey(org: OrgDocument, pick: Pick) {
  const keys = active(org).flatMap((a) =>
    a.iam.users.filter(mutableUser).flatMap((u) => u.accessKeys.map((k) => ({ ...k, accountId: a.id }))),
  );
  return pick(keys);
}

export const MUTATION_KINDS = Object.keys(GENERATORS) as MutationKind[];

/**
 * A driver of random mutations: `next()` generates one valid mutation of the next kind (kinds in a seeded
 * shuffled round, so every kind comes up once per `MUTATION_KINDS.length` mutations) from aws-sim's current
 * state and applies it. A kind the state offers nothing for, or that aws-sim rejects, is recorded and the next
 * kind tried; `applied` tells which kinds happened.
 */
export function randomMutations(sim: AwsSim, seed: number) {
  const rnd = seededRandom(seed);
  const pick: Pick = (xs) => (xs.length === 0 ? undefined : xs[Math.floor(rnd() * xs.length)]);
  let round: MutationKind[] = [];
  let n = 0;
  const applied: SimMutation[] = [];
  const rejected: Array<SimMutation & { error: string }> = [];
  const nextKind = (): MutationKind => {
    if (round.length === 0) {
      round = [...MUTATION_KINDS];
      for (let i = round.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [round[i], round[j]] = [round[j]!, round[i]!];
      }
    }
    return round.shift()!;
  };
  return {
    applied,
    rejected,
    /** Applies one mutation (trying kinds in turn until one applies) and returns it. */
    next(): SimMutation {
      for (let tries = 0; tries < MUTATION_KINDS.length * 2; tries++) {
        const kind = nextKind();
        const args = GENERATORS[kind](sim.exportOrg(), pick, ++n);
        if (args === null) continue;
        try {
          const out = (sim.mutate[kind] as (p: unknown) => unknown)(args);
          // What a mutation creates with an id of its own (an access key) is named by it: a change to it is traced
          // back to this mutation, not taken for a spurious event.
          const id = out && typeof out === "object" ? (out as { id?: unknown }).id : undefined;
          const m = { kind, args: typeof id === "string" ? { ...args, createdId: id } : args };
          applied.push(m);
          return m;
        } catch (err) {
          rejected.push({ kind, args, error: (err as Error).message });
        }
      }
      throw new Error("no mutation kind could be applied to the current state");
    },
    /** Kinds never applied so far. */
    missing(): MutationKind[] {
      const seen = new Set(applied.map((m) => m.kind));
      return MUTATION_KINDS.filter((k) => !seen.has(k));
    },
  };
}
