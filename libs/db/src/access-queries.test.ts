import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AccessQueryTimeout,
  accessOfPrincipal,
  accessToAccount,
  createDb,
  explainAccess,
  matchPrincipals,
  roleAssumers,
  type AccessPath,
  type Db,
} from "./index.ts";
import { openMigratedTestDb } from "./migrated-test-db.fixture.ts";

const SRC = "acc";
const run = randomUUID();
const PROD = "111111111111";
const DEV = "222222222222"; // suspended
const PARTNER = "333333333333"; // another organization's account, trusted by the deploy role
const PS = "arn:aws:sso:::permissionSet/ssoins-1/ps-admin";
const RESERVED = `arn:aws:iam::${PROD}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef`;
const DEPLOY = `arn:aws:iam::${PROD}:role/deploy`;
const CHAIN = `arn:aws:iam::${PROD}:role/chain`;
const CI = `arn:aws:iam::${PARTNER}:user/ci`;
const EXTERNAL_ID = { StringEquals: { "sts:ExternalId": "s3cr3t" } };
const ps = (account: string) => `${account}|${PS}`;
const assume = (role: string) => `iam_role:${role}:assignment`;
const gid = (ent: string, type: string, id: string) => `${ent}:${type}:${id}`;

let close: () => Promise<void>;
let db: Db;
let url: string;

async function resource(type: string, id: string, name: string, attrs: object = {}) {
  await sql`INSERT INTO resources (source_id, type, id, name, attrs, first_seen_run, last_seen_run)
            VALUES (${SRC}, ${type}, ${id}, ${name}, ${JSON.stringify(attrs)}::jsonb, ${run}, ${run})`.execute(
    db,
  );
}

async function entitlement(id: string, type: string, resourceId: string, slug: string, attrs: object = {}) {
  await sql`INSERT INTO entitlements (source_id, id, resource_type, resource_id, slug, name, attrs, first_seen_run, last_seen_run)
            VALUES (${SRC}, ${id}, ${type}, ${resourceId}, ${slug}, ${`${slug} on ${resourceId}`},
                    ${JSON.stringify(attrs)}::jsonb, ${run}, ${run})`.execute(db);
}

async function grant(ent: string, type: string, id: string, expandable: boolean, attrs: object = {}) {
  await sql`INSERT INTO grants (source_id, id, entitlement_id, principal_type, principal_id, expandable, attrs, first_seen_run, last_seen_run)
            VALUES (${SRC}, ${gid(ent, type, id)}, ${ent}, ${type}, ${id}, ${expandable},
                    ${JSON.stringify(attrs)}::jsonb, ${run}, ${run})`.execute(db);
}

/**
 * Group Admins (alice; dave, disabled) holds permission set Admin on prod, and so — derived at run end — the
 * reserved role it provisions; carol holds Admin on prod and on dev (suspended) directly. The deploy role
 * trusts the partner account under an ExternalId condition, which the partner's ci user may use (derived from
 * its identity policy); the chain role trusts the deploy role.
 */
beforeAll(async () => {
  ({ db, url, close } = await openMigratedTestDb({ poolSize: 2 }));
  await resource("account", PROD, "prod");
  await resource("account", DEV, "dev", { suspended: true });
  await resource("permission_set", PS, "Admin");
  await resource("sso_group", "g", "Admins");
  await resource("sso_user", "alice", "Alice", { status: "ENABLED" });
  await resource("sso_user", "dave", "Dave", { status: "DISABLED" });
  await resource("sso_user", "carol", "Carol");
  await resource("iam_role", RESERVED, "AWSReservedSSO_Admin_0123456789abcdef");
  await resource("iam_role", DEPLOY, "deploy");
  await resource("iam_role", CHAIN, "chain");
  for (const account of [PROD, DEV])
    await entitlement(ps(account), "account", account, `permission-set:${PS}`, {
      permissionSetArn: PS,
      permissionSetName: "Admin",
    });
  await entitlement("sso_group:g:member", "sso_group", "g", "member");
  for (const role of [RESERVED, DEPLOY, CHAIN])
    await entitlement(assume(role), "iam_role", role, "assignment");

  await grant("sso_group:g:member", "sso_user", "alice", false);
  await grant("sso_group:g:member", "sso_user", "dave", false);
  await grant(ps(PROD), "sso_group", "g", true);
  await grant(ps(PROD), "sso_user", "carol", false);
  await grant(ps(DEV), "sso_user", "carol", false);
  const fromIdentityCenter = {
    derivedFrom: "identity-center",
    accountId: PROD,
    permissionSetArn: PS,
    viaEntitlement: ps(PROD),
    conditional: false,
  };
  await grant(assume(RESERVED), "sso_group", "g", true, fromIdentityCenter);
  await grant(assume(RESERVED), "sso_user", "carol", false, fromIdentityCenter);
  await grant(assume(DEPLOY), "aws_account", PARTNER, false, {
    actions: ["sts:AssumeRole"],
    conditional: true,
    conditions: EXTERNAL_ID,
  });
  await grant(assume(DEPLOY), "iam_user", CI, false, {
    derivedFrom: "account-trust",
    trustedAccount: PARTNER,
    conditional: true,
    conditions: EXTERNAL_ID,
    via: {
      trust: { statements: [0] },
      identity: [{ policyId: `arn:aws:iam::${PARTNER}:policy/assume-deploy`, statement: 0, sid: "Deploy" }],
    },
  });
  await grant(assume(CHAIN), "iam_role", DEPLOY, true, { actions: ["sts:AssumeRole"], conditional: false });
});
afterAll(async () => {
  await close();
});

/** A path's principal, via, markers and grant ids: what each question's answer must get right. */
const brief = (p: AccessPath) => ({
  principal: p.principal_id,
  via: p.via_id,
  depth: p.depth,
  conditional: p.conditional,
  derived: p.derived_from,
  active: p.active,
  grants: p.grants.map((g) => g.grant_id),
});

describe("access queries", () => {
  it("accessToAccount: the account's principals through groups, with the permission set, inactive ones counted", async () => {
    const who = await accessToAccount(db, PROD);
    expect(who.hiddenInactive).toBe(1); // dave, disabled
    expect(
      who.rows.map((r) => [
        r.principal_id,
        r.principal_name,
        r.entitlement_name,
        r.via_id,
        r.depth,
        r.active,
      ]),
    ).toEqual([
      ["g", "Admins", "Admin", null, 0, true],
      ["alice", "Alice", "Admin", "g", 1, true],
      ["carol", "Carol", "Admin", null, 0, true],
    ]);
    const all = await accessToAccount(db, PROD, { includeInactive: true });
    expect(all.hiddenInactive).toBe(0);
    expect(all.rows.find((r) => r.principal_id === "dave")).toMatchObject({ via_id: "g", active: false });
    // A suspended account: the grant is listed by AWS but unusable.
    expect(await accessToAccount(db, DEV)).toEqual({ rows: [], hiddenInactive: 1 });
    expect((await accessToAccount(db, DEV, { includeInactive: true })).rows).toMatchObject([
      { principal_id: "carol", active: false },
    ]);
    expect(await accessToAccount(db, "444444444444")).toEqual({ rows: [], hiddenInactive: 0 });
  });

  it("accessOfPrincipal: what a user reaches through its group, the reserved role included", async () => {
    const of = await accessOfPrincipal(db, ["alice"]);
    expect(of.rows.map((r) => [r.resource_type, r.resource_id, r.slug, r.via_id, r.derived_from])).toEqual([
      ["account", PROD, `permission-set:${PS}`, "g", null],
      ["iam_role", RESERVED, "assignment", "g", "identity-center"],
      ["sso_group", "g", "member", null, null],
    ]);
    expect(of.rows[1]?.resource_name).toBe("AWSReservedSSO_Admin_0123456789abcdef");
    const carol = await accessOfPrincipal(db, ["carol"]);
    expect(carol.hiddenInactive).toBe(1); // Admin on dev
    expect(await accessOfPrincipal(db, ["nobody"])).toEqual({ rows: [], hiddenInactive: 0 });
  });

  it("matchPrincipals: an id or a synced principal's name", async () => {
    expect(await matchPrincipals(db, "Alice")).toEqual([
      { principal_type: "sso_user", principal_id: "alice", name: "Alice" },
    ]);
    expect(await matchPrincipals(db, "g")).toEqual([
      { principal_type: "sso_group", principal_id: "g", name: "Admins" },
    ]);
    expect(await matchPrincipals(db, "prod")).toEqual([]); // an account is no principal
  });

  it("roleAssumers: account trust, its derived identity-policy grant and a role chain, with their grants", async () => {
    const deploy = await roleAssumers(db, DEPLOY);
    expect(deploy.rows.map(brief)).toEqual([
      {
        principal: PARTNER,
        via: null,
        depth: 0,
        conditional: true,
        derived: null,
        active: true,
        grants: [gid(assume(DEPLOY), "aws_account", PARTNER)],
      },
      {
        principal: CI,
        via: null,
        depth: 0,
        conditional: true,
        derived: "account-trust",
        active: true,
        grants: [gid(assume(DEPLOY), "iam_user", CI)],
      },
    ]);
    expect(deploy.rows[0]?.grants[0]).toMatchObject({
      resource_name: "deploy",
      principal_type: "aws_account",
      attrs: { actions: ["sts:AssumeRole"], conditions: EXTERNAL_ID },
    });
    // The chain: whoever may assume deploy may assume chain, through deploy; the grants run target first.
    const chain = await roleAssumers(db, CHAIN);
    expect(chain.rows.map(brief)).toEqual([
      expect.objectContaining({
        principal: PARTNER,
        via: DEPLOY,
        depth: 1,
        conditional: true,
        derived: null,
      }),
      {
        principal: DEPLOY,
        via: null,
        depth: 0,
        conditional: false,
        derived: null,
        active: true,
        grants: [gid(assume(CHAIN), "iam_role", DEPLOY)],
      },
      {
        principal: CI,
        via: DEPLOY,
        depth: 1,
        conditional: true,
        derived: "account-trust",
        active: true,
        grants: [gid(assume(CHAIN), "iam_role", DEPLOY), gid(assume(DEPLOY), "iam_user", CI)],
      },
    ]);
    expect(chain.rows[2]?.grants[1]).toMatchObject({
      principal_type: "iam_user",
      principal_id: CI,
      resource_id: DEPLOY,
      attrs: { via: { identity: [{ sid: "Deploy" }] } },
    });
  });

  it("roleAssumers: the reserved role through the Identity Center assignment, named after its permission set", async () => {
    const r = await roleAssumers(db, RESERVED);
    expect(r.hiddenInactive).toBe(1); // dave
    expect(r.rows.map((p) => [p.principal_id, p.via_id, p.derived_from])).toEqual([
      ["g", null, "identity-center"],
      ["alice", "g", "identity-center"],
      ["carol", null, "identity-center"],
    ]);
    expect(r.rows[1]?.grants.map((g) => [g.slug, g.principal_id, g.via_entitlement_name])).toEqual([
      ["assignment", "g", "Admin"],
      ["member", "alice", null],
    ]);
  });

  it("explainAccess: to an account, its permission sets and the roles in it; to a role, that role", async () => {
    const toProd = await explainAccess(db, ["alice"], PROD);
    expect(toProd.rows.map((p) => [p.resource_type, p.resource_id, p.via_id])).toEqual([
      ["account", PROD, "g"],
      ["iam_role", RESERVED, "g"],
    ]);
    expect((await explainAccess(db, [CI], PROD)).rows.map((p) => p.resource_id)).toEqual([CHAIN, DEPLOY]);
    expect((await explainAccess(db, [CI], CHAIN)).rows.map(brief)).toEqual([
      expect.objectContaining({ principal: CI, via: DEPLOY, depth: 1, derived: "account-trust" }),
    ]);
    expect(await explainAccess(db, ["carol"], DEV)).toEqual({ rows: [], hiddenInactive: 1 });
    expect(await explainAccess(db, ["alice"], DEPLOY)).toEqual({ rows: [], hiddenInactive: 0 });
  });

  it("runs under a statement timeout, reported as AccessQueryTimeout, and the connection stays usable", async () => {
    // One connection, so what it is left with after the timeout can be read back.
    const one = createDb({ url, poolSize: 1 });
    try {
      // A lock held by another transaction makes the query wait; the statement timeout counts the wait.
      await db.transaction().execute(async (tx) => {
        await sql`LOCK TABLE grants IN ACCESS EXCLUSIVE MODE`.execute(tx);
        const err = await accessToAccount(one, PROD, { timeoutMs: 50 }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(AccessQueryTimeout);
        expect(err).toMatchObject({ question: `access who ${PROD}`, timeoutMs: 50 });
      });
      // The limit was local to the query's transaction: the connection answers normally, with no limit left.
      expect((await accessToAccount(one, PROD, { timeoutMs: 5000 })).rows).toHaveLength(3);
      const t = await sql<{ t: string }>`SELECT current_setting('statement_timeout') AS t`.execute(one);
      expect(t.rows[0]?.t).toBe("0");
    } finally {
      await one.destroy();
    }
  });
});
