import { describe, expect, it } from "vitest";
import { useMigratedTestDb } from "./migrated-test-db.fixture.ts";
import {
  entitlement,
  grant,
  liveGrantIds,
  resource,
  runEvents,
  syncRun,
  type TaskRows,
} from "./sync-run.fixture.ts";

const testDb = useMigratedTestDb();

const SRC = "trust";
const A = "111111111111"; // the roles' account
const X = "222222222222"; // the account they trust
const Z = "333333333333"; // trusted by nobody
const R = `arn:aws:iam::${A}:role/target`;
const R2 = `arn:aws:iam::${A}:role/mfa-target`;
const arn = (acct: string, kind: "user" | "role" | "group" | "policy", name: string) =>
  `arn:aws:iam::${acct}:${kind}/${name}`;
const MALLORY = arn(X, "user", "mallory");

const allow = (action: string, res: string | string[]) => ({
  Effect: "Allow",
  Action: action,
  Resource: res,
});
const doc = (...Statement: unknown[]) => ({ Version: "2012-10-17", Statement });

const TRUST_R = doc(
  { Effect: "Allow", Principal: { AWS: X }, Action: "sts:AssumeRole" },
  { Effect: "Deny", Principal: { AWS: MALLORY }, Action: "sts:AssumeRole" },
);
const TRUST_R2 = doc({
  Effect: "Allow",
  Principal: { AWS: `arn:aws:iam::${X}:root` },
  Action: "sts:AssumeRole",
  Condition: { Bool: { "aws:MultiFactorAuthPresent": "true" } },
});

interface Who {
  kind: "user" | "role";
  acct: string;
  name: string;
  inline?: unknown[];
  attached?: string[];
  groups?: string[];
  boundary?: string;
}

const assignment = (role: string) => `iam_role:${role}:assignment`;
const attachedEnt = (policy: string) => `iam_policy:${policy}:attached`;

function world(people: Who[]): TaskRows[] {
  const res = [
    resource("iam_role", R, { accountId: A, trustPolicy: JSON.stringify(TRUST_R) }),
    resource("iam_role", R2, { accountId: A, trustPolicy: JSON.stringify(TRUST_R2) }),
    resource("iam_group", arn(X, "group", "ops"), { accountId: X }),
    // A customer policy (document stored as a string, as the mapper stores it) and an AWS-managed one (object).
    resource("iam_policy", arn(X, "policy", "assume-any"), {
      document: JSON.stringify(doc(allow("sts:AssumeRole", "*"))),
    }),
    resource("iam_policy", arn(X, "policy", "only-target"), { document: doc(allow("sts:Assume*", R)) }),
    resource("iam_policy", arn(X, "policy", "s3-only"), { document: doc(allow("s3:*", "*")) }),
    resource("iam_policy", "arn:aws:iam::aws:policy/AdministratorAccess", {
      awsManaged: true,
      document: doc(allow("*", "*")),
    }),
  ];
  const ents = [
    entitlement("iam_role", R, "assignment"),
    entitlement("iam_role", R2, "assignment"),
    entitlement("iam_group", arn(X, "group", "ops"), "member"),
    ...res.filter((r) => r.type === "iam_policy").map((r) => entitlement("iam_policy", r.id, "attached")),
  ];
  const grants = [grant(assignment(R), "aws_account", X), grant(assignment(R2), "aws_account", X)];
  // The ops group may assume anything; bob gets it only through the group.
  grants.push(grant(attachedEnt(arn(X, "policy", "assume-any")), "iam_group", arn(X, "group", "ops")));
  for (const p of people) {
    const id = arn(p.acct, p.kind, p.name);
    const type = p.kind === "user" ? "iam_user" : "iam_role";
    res.push(
      resource(type, id, {
        accountId: p.acct,
        ...(p.boundary ? { permissionsBoundary: p.boundary } : {}),
      }),
    );
    for (const [i, d] of (p.inline ?? []).entries())
      res.push(
        resource(
          "inline_policy",
          `${id}::inline::p${i}`,
          { document: JSON.stringify(d) },
          {
            parentType: type,
            parentId: id,
          },
        ),
      );
    for (const pol of p.attached ?? []) grants.push(grant(attachedEnt(pol), type, id));
    for (const g of p.groups ?? []) grants.push(grant(`iam_group:${g}:member`, "iam_user", id));
  }
  return [{ scope: "iam", resources: res, entitlements: ents, grants }];
}

const PEOPLE: Who[] = [
  // A wildcard resource in an inline policy: both roles.
  {
    kind: "user",
    acct: X,
    name: "alice",
    inline: [doc(allow("sts:AssumeRole", `arn:aws:iam::${A}:role/*`))],
  },
  // Only through the ops group's attached policy.
  { kind: "user", acct: X, name: "bob", groups: [arn(X, "group", "ops")] },
  // Administrator, but an explicit Deny on R.
  {
    kind: "user",
    acct: X,
    name: "carol",
    attached: ["arn:aws:iam::aws:policy/AdministratorAccess"],
    inline: [{ Statement: [{ Effect: "Deny", Action: "sts:AssumeRole", Resource: R }] }],
  },
  // May assume anything, but the boundary allows only S3: nothing.
  {
    kind: "user",
    acct: X,
    name: "dave",
    attached: [arn(X, "policy", "assume-any")],
    boundary: arn(X, "policy", "s3-only"),
  },
  // May assume anything, the boundary allows R only.
  {
    kind: "user",
    acct: X,
    name: "erin",
    attached: [arn(X, "policy", "assume-any")],
    boundary: arn(X, "policy", "only-target"),
  },
  // Administrator, but R's trust policy denies her by name: R2 only.
  { kind: "user", acct: X, name: "mallory", attached: ["arn:aws:iam::aws:policy/AdministratorAccess"] },
  // A role (expandable: whoever assumes it reaches R too).
  { kind: "role", acct: X, name: "deployer", attached: [arn(X, "policy", "only-target")] },
  // Administrators of an account the roles do not trust, and of the roles' own account: nothing.
  { kind: "user", acct: Z, name: "frank", attached: ["arn:aws:iam::aws:policy/AdministratorAccess"] },
  { kind: "user", acct: A, name: "gina", attached: ["arn:aws:iam::aws:policy/AdministratorAccess"] },
];

const derived = (role: string, type: string, who: string) =>
  `${assignment(role)}:${type}:${who}#account-trust`;

describe("deriveAccountTrust (at the end of a successful run)", () => {
  it("grants the trusted account's principals whose identity policies allow the assume, and no one else", async () => {
    const run1 = await syncRun(testDb.db, SRC, world(PEOPLE));
    const u = (n: string) => arn(X, "user", n);
    const expected = [
      derived(R, "iam_role", arn(X, "role", "deployer")),
      derived(R, "iam_user", u("alice")),
      derived(R, "iam_user", u("bob")),
      derived(R, "iam_user", u("erin")),
      derived(R2, "iam_user", u("alice")),
      derived(R2, "iam_user", u("bob")),
      derived(R2, "iam_user", u("carol")),
      derived(R2, "iam_user", u("mallory")),
    ].sort();
    expect(await liveGrantIds(testDb.db, SRC, "derived:account-trust")).toEqual(expected);
    expect((await runEvents(testDb.db, SRC, run1, "grant.created")).map((e) => e.grantId)).toEqual(
      expect.arrayContaining(expected),
    );

    const rows = await testDb.db
      .selectFrom("grants")
      .select(["id", "attrs", "expandable"])
      .where("source_id", "=", SRC)
      .where("scope", "=", "derived:account-trust")
      .execute();
    const by = new Map(rows.map((r) => [r.id, r]));
    expect(by.get(derived(R, "iam_user", u("alice")))?.attrs).toEqual({
      derivedFrom: "account-trust",
      trustedAccount: X,
      conditional: false,
      via: {
        trust: { statements: [0] },
        identity: [{ policyId: `${u("alice")}::inline::p0`, statement: 0 }],
      },
    });
    // R2 trusts the account only with MFA: conditional, with the condition carried.
    expect(by.get(derived(R2, "iam_user", u("bob")))?.attrs).toMatchObject({
      conditional: true,
      conditions: { mfa: true },
      via: { identity: [{ policyId: arn(X, "policy", "assume-any"), statement: 0 }] },
    });
    expect(by.get(derived(R, "iam_role", arn(X, "role", "deployer")))?.expandable).toBe(true);
    expect(by.get(derived(R, "iam_user", u("alice")))?.expandable).toBe(false);

    // The same world again: no new events; alice's policy removed: her two grants revoked, once each.
    const run2 = await syncRun(testDb.db, SRC, world(PEOPLE));
    expect(
      (await runEvents(testDb.db, SRC, run2, "grant.created")).filter((e) =>
        String(e.grantId).endsWith("#account-trust"),
      ),
    ).toEqual([]);
    const run3 = await syncRun(
      testDb.db,
      SRC,
      world(PEOPLE.map((p) => (p.name === "alice" ? { ...p, inline: [] } : p))),
    );
    expect(
      (await runEvents(testDb.db, SRC, run3, "grant.revoked"))
        .map((e) => String(e.grantId))
        .filter((id) => id.endsWith("#account-trust"))
        .sort(),
    ).toEqual([derived(R, "iam_user", u("alice")), derived(R2, "iam_user", u("alice"))].sort());
  });
});
