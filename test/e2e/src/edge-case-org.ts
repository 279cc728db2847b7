import { OrgDocument } from "@grantline/aws-sim";

const T = "2024-01-15T10:00:00.000Z";
const INSTANCE = "arn:aws:sso:::instance/ssoins-72230000edgecase";
const ps = (n: number) => `arn:aws:sso:::permissionSet/ssoins-72230000edgecase/ps-edge00000000000${n}`;
const uid = (n: number) => `9a7b5c3d-0000-4000-8000-${String(n).padStart(12, "0")}`;
const gid = (n: number) => `6f1e2d3c-0000-4000-9000-${String(n).padStart(12, "0")}`;

/**
 * A hand-written organization full of the cases generated ones may miss: exactly one full page of users (100,
 * the Identity Store maximum) and of accounts-per-page multiples (20), an empty group, users in no group, a
 * group with exactly 100 members, a permission set provisioned with no assignment left, one never provisioned,
 * suspended accounts (one with assignments), nested OUs, and names with spaces, unicode and `+=,.@-`.
 */
export function edgeCaseOrg(): OrgDocument {
  const accounts = Array.from({ length: 40 }, (_, i) => ({
    id: String(210000000000 + i),
    name: i === 0 ? "Management" : i % 7 === 0 ? `Prod Ωmega+=,.@-${i}` : `Account ${i}`,
    email: `acct${i}+aws@example.com`,
    status: (i === 13 || i === 27 ? "SUSPENDED" : "ACTIVE") as "ACTIVE" | "SUSPENDED",
    parentId: i < 10 ? "r-ed9e" : i < 25 ? "ou-ed9e-aaaa1111" : "ou-ed9e-bbbb2222",
    joinedMethod: "CREATED" as const,
    joinedTimestamp: T,
    iam: { aliases: [], users: [], groups: [], roles: [], policies: [] },
  }));
  const users = Array.from({ length: 100 }, (_, i) => ({
    userId: uid(i),
    userName: i % 10 === 0 ? `Zoë.O'Brien+${i}@example.com` : `user-${i}@example.com`,
    displayName: i % 10 === 0 ? `Zoë O'Brien ${i}` : `User ${i}`,
    name: { givenName: i % 10 === 0 ? "Zoë" : "User", familyName: String(i) },
    emails: [{ value: `user-${i}@example.com`, type: "work", primary: true }],
    active: true,
  }));
  const groups = [
    { groupId: gid(0), displayName: "Empty group", description: "no members" },
    { groupId: gid(1), displayName: "Everyone (exactly 100)" },
    { groupId: gid(2), displayName: "Ops ⚙ +=,.@-" },
  ];
  const memberships = [
    ...users.map((u, i) => ({ membershipId: `m1-${i}`, groupId: gid(1), userId: u.userId })),
    ...users.slice(0, 3).map((u, i) => ({ membershipId: `m2-${i}`, groupId: gid(2), userId: u.userId })),
  ];
  const permissionSets = [
    {
      arn: ps(1),
      name: "AdministratorAccess",
      description: "admins",
      sessionDuration: "PT4H",
      createdDate: T,
      managedPolicies: ["arn:aws:iam::aws:policy/AdministratorAccess"],
      customerManagedPolicyReferences: [],
      inlinePolicy: undefined,
      provisionedTo: accounts.slice(0, 20).map((a) => a.id),
    },
    {
      arn: ps(2),
      name: "ReadOnly+=,.@-",
      sessionDuration: "PT1H",
      createdDate: T,
      managedPolicies: ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/AWSSupportAccess"],
      customerManagedPolicyReferences: [{ name: "team-boundary", path: "/teams/" }],
      inlinePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Deny", Action: "s3:Delete*", Resource: "*" }],
      }),
      provisionedTo: [accounts[13]!.id, accounts[3]!.id],
    },
    // Provisioned to two accounts, but every assignment on it was removed.
    {
      arn: ps(3),
      name: "Leftover",
      sessionDuration: "PT1H",
      createdDate: T,
      managedPolicies: [],
      customerManagedPolicyReferences: [],
      provisionedTo: [accounts[5]!.id, accounts[6]!.id],
    },
    // Never provisioned anywhere: still an entitlement on every account.
    {
      arn: ps(4),
      name: "Never Used",
      sessionDuration: "PT1H",
      createdDate: T,
      managedPolicies: [],
      customerManagedPolicyReferences: [],
      provisionedTo: [],
    },
  ];
  const assignments = [
    ...accounts.slice(0, 20).map((a) => ({
      accountId: a.id,
      permissionSetArn: ps(1),
      principalType: "GROUP" as const,
      principalId: gid(2),
    })),
    {
      accountId: accounts[3]!.id,
      permissionSetArn: ps(2),
      principalType: "USER" as const,
      principalId: uid(50),
    },
    {
      accountId: accounts[13]!.id,
      permissionSetArn: ps(2),
      principalType: "GROUP" as const,
      principalId: gid(0),
    },
    // Exactly 100 assignments on one pair: a full page.
    ...users.map((u) => ({
      accountId: accounts[1]!.id,
      permissionSetArn: ps(1),
      principalType: "USER" as const,
      principalId: u.userId,
    })),
  ];
  // parse() fills the defaults aws-sim adds to its document over time, so this stays a plain literal.
  return OrgDocument.parse({
    organization: { id: "o-edgecase01", managementAccountId: accounts[0]!.id, featureSet: "ALL" },
    roots: [{ id: "r-ed9e", name: "Root" }],
    organizationalUnits: [
      { id: "ou-ed9e-aaaa1111", name: "Workloads ∙ prod", parentId: "r-ed9e" },
      { id: "ou-ed9e-bbbb2222", name: "Nested +=,.@-", parentId: "ou-ed9e-aaaa1111" },
    ],
    accounts,
    identityCenter: {
      instanceArn: INSTANCE,
      identityStoreId: "d-90670edc01",
      name: "Edge",
      createdDate: T,
      users,
      groups,
      memberships,
      permissionSets,
      assignments,
    },
  });
}
