import { AWS_MANAGED_POLICIES } from "./aws-managed-policies.ts";
import { accountIam } from "./account-iam.ts";
import { addAccessExtras } from "./generate-access-extras.ts";
import { hex, lower, mulberry32, storeId, type Rng } from "./ids.ts";
import type {
  AccountDoc,
  AssignmentDoc,
  IdentityStoreGroupDoc,
  IdentityStoreUserDoc,
  OrgDocument,
  PermissionSetDoc,
} from "./org-document.ts";

export type Preset = "tiny" | "small" | "medium" | "large";
interface Sizes {
  accounts: number;
  permissionSets: number;
  pairs: number;
  users: number;
  groups: number;
  memberships: number;
  assignments: number;
}
export const PRESETS: Record<Preset, Sizes> = {
  tiny: { accounts: 4, permissionSets: 3, pairs: 6, users: 8, groups: 3, memberships: 10, assignments: 6 },
  small: {
    accounts: 10,
    permissionSets: 10,
    pairs: 40,
    users: 100,
    groups: 20,
    memberships: 300,
    assignments: 100,
  },
  medium: {
    accounts: 100,
    permissionSets: 40,
    pairs: 800,
    users: 2000,
    groups: 200,
    memberships: 6000,
    assignments: 2000,
  },
  large: {
    accounts: 1000,
    permissionSets: 200,
    pairs: 8000,
    users: 20000,
    groups: 2000,
    memberships: 60000,
    assignments: 20000,
  },
};
export { ACCESS_ROLE, AUDIT_ROLE, EXTERNAL_ID, SYNC_USER } from "./account-iam.ts";

const FIRST = [
  "Alice",
  "Bob",
  "Chloé",
  "Dmitri",
  "Émile",
  "Fatima",
  "Günther",
  "Hiro",
  "Ingrid",
  "José",
  "Kai",
  "Léa",
  "Mateo",
  "Nadia",
  "Øyvind",
  "Priya",
  "Quinn",
  "Rūta",
  "Søren",
  "Tomás",
  "Uma",
  "Viktor",
  "Wen",
  "Yasmin",
  "Zoë",
];
const LAST = [
  "Smith",
  "Müller",
  "O'Brien",
  "García",
  "Nakamura",
  "Kowalski",
  "Nguyen",
  "Ødegaard",
  "Schmidt",
  "Dubois",
  "Rossi",
  "Singh",
  "van der Berg",
  "Çelik",
  "Papadopoulos",
];
const TEAMS = [
  "Platform",
  "Data Eng",
  "Sécurité",
  "Payments",
  "SRE",
  "Mobile",
  "Finance",
  "Growth",
  "ML Ops",
  "Support",
];
const PS_NAMES = [
  "AdministratorAccess",
  "ReadOnly",
  "PowerUser",
  "Billing",
  "SecurityAudit",
  "DataScientist",
  "Developer",
  "NetworkAdmin",
  "SupportUser",
  "ViewOnly",
];
const ENVS = ["prod", "staging", "dev", "sandbox", "shared", "logs", "audit", "network"];

const iso = (ms: number): string => new Date(ms).toISOString();
const BASE = Date.UTC(2023, 0, 1);
const DAY = 86_400_000;

/** The seeded generator's state every part draws from, in a fixed order so a seed always gives the same org. */
interface Gen {
  size: Sizes;
  rng: Rng;
  /** A timestamp within 600 days of 2023-01-01. */
  t(): string;
  int(n: number): number;
}

function generateOus(g: Gen, rootId: string): OrgDocument["organizationalUnits"] {
  const ouCount = Math.max(2, Math.floor(g.size.accounts / 25));
  const ous: OrgDocument["organizationalUnits"] = [];
  for (let i = 0; i < ouCount; i++) {
    const parentId = i < 2 || ous.length === 0 ? rootId : g.rng() < 0.6 ? rootId : ous[g.int(ous.length)]!.id;
    ous.push({
      id: `ou-${rootId.slice(2)}-${lower(g.rng, 8)}`,
      name: `${TEAMS[i % TEAMS.length]} ${i}`,
      parentId,
    });
  }
  return ous;
}

/** Accounts (the first is the management account), then each one's IAM. */
function generateAccounts(
  g: Gen,
  rootId: string,
  ous: OrgDocument["organizationalUnits"],
): { accounts: AccountDoc[]; mgmt: string } {
  const { size, rng, t, int } = g;
  const ids = new Set<string>();
  const accounts: AccountDoc[] = [];
  let mgmt = "";
  for (let i = 0; i < size.accounts; i++) {
    let id = "";
    do id = String(100_000_000_000 + int(899_999_999_999));
    while (ids.has(id));
    ids.add(id);
    if (i === 0) mgmt = id;
    const env = ENVS[i % ENVS.length]!;
    accounts.push({
      id,
      name: i === 0 ? "Management" : `${TEAMS[i % TEAMS.length]} ${env} ${i}`,
      email: `aws+${env}-${i}@example.com`,
      status: i > 0 && (i % 23 === 3 || (size.accounts <= 4 && i === 3)) ? "SUSPENDED" : "ACTIVE",
      parentId: i === 0 ? rootId : ous[int(ous.length)]!.id,
      joinedMethod: i === 0 ? "CREATED" : rng() < 0.2 ? "INVITED" : "CREATED",
      joinedTimestamp: t(),
      iam: { aliases: [], users: [], groups: [], roles: [], policies: [], samlProviders: [] },
    });
  }
  for (const a of accounts) a.iam = accountIam(rng, a.id, a.id === mgmt, mgmt, t);
  return { accounts, mgmt };
}

function generateUsers(g: Gen): IdentityStoreUserDoc[] {
  const users: IdentityStoreUserDoc[] = [];
  for (let i = 0; i < g.size.users; i++) {
    const given = FIRST[g.int(FIRST.length)]!,
      f = LAST[g.int(LAST.length)]!;
    const local = `${given}.${f}`.toLowerCase().replace(/[^a-z0-9.]/g, "") || "user";
    const userName =
      i % 17 === 5
        ? `${local}+ops${i}@example.com`
        : i % 13 === 7
          ? `${given}.${f.replace(/ /g, "_")}.${i}`
          : `${local}${i}@example.com`;
    users.push({
      userId: storeId(g.rng),
      userName,
      displayName: `${given} ${f}`,
      name: { givenName: given, familyName: f, formatted: `${given} ${f}` },
      emails: [{ value: `${local}${i}@example.com`, type: "work", primary: true }],
      active: i % 29 !== 11,
    });
  }
  return users;
}

function generateGroups(g: Gen): IdentityStoreGroupDoc[] {
  const groups: IdentityStoreGroupDoc[] = [];
  for (let i = 0; i < g.size.groups; i++) {
    groups.push({
      groupId: storeId(g.rng),
      displayName: i === 0 ? "Everyone — Tous" : `${TEAMS[i % TEAMS.length]} team-${i}`,
      description: i % 3 === 0 ? undefined : `Group ${i}`,
    });
  }
  return groups;
}

type Memberships = NonNullable<OrgDocument["identityCenter"]>["memberships"];

/** Memberships: heavy skew (a few huge groups), ~15% of users in no group. */
function generateMemberships(
  g: Gen,
  users: IdentityStoreUserDoc[],
  groups: IdentityStoreGroupDoc[],
): Memberships {
  const { size, rng, int } = g;
  const memberships: Memberships = [];
  const grouped = Math.max(1, Math.floor(size.users * 0.85));
  const seen = new Set<number>();
  const target = Math.min(size.memberships, Math.floor(grouped * size.groups * 0.5));
  for (let tries = 0; memberships.length < target && tries < target * 20; tries++) {
    const gi = Math.floor(size.groups * Math.pow(rng(), 2.2));
    const ui = int(grouped);
    const key = gi * size.users + ui;
    if (seen.has(key)) continue;
    seen.add(key);
    memberships.push({ membershipId: storeId(rng), groupId: groups[gi]!.groupId, userId: users[ui]!.userId });
  }
  return memberships;
}

function generatePermissionSets(g: Gen, instanceId: string): PermissionSetDoc[] {
  const awsArns = [...AWS_MANAGED_POLICIES.keys()];
  const permissionSets: PermissionSetDoc[] = [];
  for (let i = 0; i < g.size.permissionSets; i++) {
    const base = PS_NAMES[i % PS_NAMES.length]!;
    permissionSets.push({
      arn: `arn:aws:sso:::permissionSet/${instanceId}/ps-${hex(g.rng, 16)}`,
      name: i < PS_NAMES.length ? base : `${base}-${i}`.slice(0, 32),
      description: i % 4 === 3 ? undefined : `${base} access, set ${i}`,
      sessionDuration: ["PT1H", "PT4H", "PT8H", "PT12H"][i % 4]!,
      createdDate: g.t(),
      managedPolicies: i % 5 === 4 ? [] : [awsArns[i % awsArns.length]!],
      customerManagedPolicyReferences: i % 3 === 1 ? [{ name: "deploy-policy", path: "/" }] : [],
      inlinePolicy:
        i % 4 === 2
          ? JSON.stringify({
              Version: "2012-10-17",
              Statement: [{ Effect: "Deny", Action: "iam:*", Resource: "*" }],
            })
          : undefined,
      provisionedTo: [],
    });
  }
  return permissionSets;
}

/** Provisioned (permission set, account) pairs, skewed per permission set; fills each set's `provisionedTo`. */
function provisionPairs(
  g: Gen,
  permissionSets: PermissionSetDoc[],
  accounts: AccountDoc[],
): Array<[number, number]> {
  const { size, rng, int } = g;
  const pairSeen = new Set<string>();
  const pairs: Array<[number, number]> = [];
  const maxPairs = Math.min(size.pairs, size.accounts * size.permissionSets);
  for (let tries = 0; pairs.length < maxPairs && tries < maxPairs * 30; tries++) {
    const pi = Math.floor(size.permissionSets * Math.pow(rng(), 1.5));
    const ai = int(size.accounts);
    const k = `${pi}:${ai}`;
    if (pairSeen.has(k)) continue;
    pairSeen.add(k);
    pairs.push([pi, ai]);
    permissionSets[pi]!.provisionedTo.push(accounts[ai]!.id);
  }
  return pairs;
}

/** Assignments on ~90% of pairs (the rest: provisioned with no assignment left). */
function generateAssignments(
  g: Gen,
  pairs: Array<[number, number]>,
  on: {
    accounts: AccountDoc[];
    permissionSets: PermissionSetDoc[];
    users: IdentityStoreUserDoc[];
    groups: IdentityStoreGroupDoc[];
  },
): AssignmentDoc[] {
  const { size, rng, int } = g;
  const { accounts, permissionSets, users, groups } = on;
  const assignments: AssignmentDoc[] = [];
  const usable = Math.max(1, Math.floor(pairs.length * 0.9));
  const aSeen = new Set<string>();
  for (let tries = 0; assignments.length < size.assignments && tries < size.assignments * 20; tries++) {
    const [pi, ai] = tries < usable ? pairs[tries]! : pairs[int(usable)]!;
    const isGroup = rng() < 0.3;
    const principalId = isGroup ? groups[int(groups.length)]!.groupId : users[int(users.length)]!.userId;
    const k = `${pi}:${ai}:${principalId}`;
    if (aSeen.has(k)) continue;
    aSeen.add(k);
    assignments.push({
      accountId: accounts[ai]!.id,
      permissionSetArn: permissionSets[pi]!.arn,
      principalType: isGroup ? "GROUP" : "USER",
      principalId,
    });
  }
  return assignments;
}

/** Generates an organization deterministically from a seed. `large` takes a few seconds at most. */
export function generateOrg(preset: Preset = "tiny", seed = 1): OrgDocument {
  const rng = mulberry32(seed * 2654435761 + 17);
  const g: Gen = {
    size: PRESETS[preset],
    rng,
    t: () => iso(BASE + Math.floor(rng() * 600) * DAY + Math.floor(rng() * DAY)),
    int: (n) => Math.floor(rng() * n),
  };
  const orgId = `o-${lower(rng, 10)}`;
  const rootId = `r-${lower(rng, 4)}`;
  const ous = generateOus(g, rootId);
  const { accounts, mgmt } = generateAccounts(g, rootId, ous);
  const instanceId = `ssoins-${hex(rng, 16)}`;
  const users = generateUsers(g);
  const groups = generateGroups(g);
  const memberships = generateMemberships(g, users, groups);
  const permissionSets = generatePermissionSets(g, instanceId);
  const pairs = provisionPairs(g, permissionSets, accounts);
  const assignments = generateAssignments(g, pairs, { accounts, permissionSets, users, groups });
  const doc: OrgDocument = {
    organization: { id: orgId, managementAccountId: mgmt, featureSet: "ALL" },
    roots: [{ id: rootId, name: "Root", policyTypes: [] }],
    organizationalUnits: ous,
    accounts,
    identityCenter: {
      instanceArn: `arn:aws:sso:::instance/${instanceId}`,
      identityStoreId: `d-${hex(rng, 10)}`,
      name: "acme",
      createdDate: g.t(),
      users,
      groups,
      memberships,
      permissionSets,
      assignments,
    },
    policies: [],
  };
  addAccessExtras(doc, preset, seed);
  return doc;
}
