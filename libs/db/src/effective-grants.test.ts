import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refreshGrantChains, type Db } from "./index.ts";
import { openMigratedTestDb } from "./migrated-test-db.fixture.ts";

let close: () => Promise<void>;
let db: Db;
const run = randomUUID();
const SRC = "eg";

beforeAll(async () => {
  ({ db, close } = await openMigratedTestDb());
});
afterAll(async () => {
  await close();
});

const R1 = "arn:aws:iam::111111111111:role/r1";
const R2 = "arn:aws:iam::111111111111:role/r2";
const R3 = "arn:aws:iam::111111111111:role/r3";
const G = "arn:aws:iam::111111111111:group/devs";
const U1 = "arn:aws:iam::111111111111:user/alice";
const U2 = "arn:aws:iam::111111111111:user/bob";
const P = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const P2 = "arn:aws:iam::111111111111:policy/deploy";

async function entitlement(type: string, id: string, slug: string): Promise<string> {
  const eid = `${type}:${id}:${slug}`;
  await sql`INSERT INTO entitlements (source_id, id, resource_type, resource_id, slug, name, attrs, scope, first_seen_run, last_seen_run)
            VALUES (${SRC}, ${eid}, ${type}, ${id}, ${slug}, ${eid}, '{}', NULL, ${run}, ${run})`.execute(db);
  return eid;
}

async function grant(
  ent: string,
  type: string,
  id: string,
  expandable: boolean,
  revoked = false,
  attrs: Record<string, unknown> = {},
): Promise<string> {
  const gid = `${ent}:${type}:${id}`;
  await sql`INSERT INTO grants (source_id, id, entitlement_id, principal_type, principal_id, expandable, attrs, scope, first_seen_run, last_seen_run, revoked_at)
            VALUES (${SRC}, ${gid}, ${ent}, ${type}, ${id}, ${expandable}, ${JSON.stringify(attrs)}::jsonb, NULL, ${run}, ${run},
                    ${revoked ? sql`now()` : sql`NULL`})`.execute(db);
  return gid;
}

async function resource(type: string, id: string, attrs: Record<string, unknown>): Promise<void> {
  await sql`INSERT INTO resources (source_id, type, id, name, attrs, first_seen_run, last_seen_run)
            VALUES (${SRC}, ${type}, ${id}, ${id}, ${JSON.stringify(attrs)}::jsonb, ${run}, ${run})`.execute(
    db,
  );
}

interface Row {
  entitlement_id: string;
  principal_type: string;
  principal_id: string;
  via_type: string | null;
  via_id: string | null;
  depth: number;
  path: string[];
}

async function reach(ent: string): Promise<Row[]> {
  // The rows here are written straight into the tables, not by a run: refresh the 2+-hop paths as a run's end would.
  await refreshGrantChains(db, SRC);
  const r = await sql<Row>`SELECT entitlement_id, principal_type, principal_id, via_type, via_id, depth, path
                             FROM effective_grants WHERE source_id = ${SRC} AND entitlement_id = ${ent}
                            ORDER BY depth, principal_type, principal_id`.execute(db);
  return r.rows;
}

describe("effective_grants with IAM groups and role-assumption chains", () => {
  it("expands groups, role trust chains and cycles, and terminates", async () => {
    const gMember = await entitlement("iam_group", G, "member");
    const r1 = await entitlement("iam_role", R1, "assignment");
    const r2 = await entitlement("iam_role", R2, "assignment");
    const r3 = await entitlement("iam_role", R3, "assignment");
    const pol = await entitlement("iam_policy", P, "attached");
    const pol2 = await entitlement("iam_policy", P2, "attached");
    // alice is in devs; bob was, but the membership is revoked.
    await grant(gMember, "iam_user", U1, false);
    await grant(gMember, "iam_user", U2, false, true);
    // devs may assume r1; r1 and r2 trust each other (a cycle); r2 trusts bob directly; r3 trusts r2.
    await grant(r1, "iam_group", G, true);
    await grant(r1, "iam_role", R2, true);
    await grant(r2, "iam_role", R1, true);
    await grant(r2, "iam_user", U2, false);
    await grant(r3, "iam_role", R2, true);
    // ReadOnly is attached to r3; deploy to the group.
    await grant(pol, "iam_role", R3, true);
    await grant(pol2, "iam_group", G, true);

    // Group membership: a group's policy reaches its (non-revoked) members, one hop, via the group.
    expect(await reach(pol2)).toEqual([
      {
        entitlement_id: pol2,
        principal_type: "iam_group",
        principal_id: G,
        via_type: null,
        via_id: null,
        depth: 0,
        path: [`iam_group/${G}`],
      },
      {
        entitlement_id: pol2,
        principal_type: "iam_user",
        principal_id: U1,
        via_type: "iam_group",
        via_id: G,
        depth: 1,
        path: [`iam_group/${G}`, `iam_user/${U1}`],
      },
    ]);

    // ReadOnly on r3 ← r2 may assume r3 ← (r1, bob) may assume r2 ← (devs, r2 — cycle, stopped) may assume r1 ← alice.
    const ro = await reach(pol);
    expect(ro.map((r) => [r.depth, r.principal_type, r.principal_id, r.via_id])).toEqual([
      [0, "iam_role", R3, null],
      [1, "iam_role", R2, R3],
      [2, "iam_role", R1, R3],
      [2, "iam_user", U2, R3],
      [3, "iam_group", G, R3],
      [4, "iam_user", U1, R3],
    ]);
    expect(ro.at(-1)?.path).toEqual([
      `iam_role/${R3}`,
      `iam_role/${R2}`,
      `iam_role/${R1}`,
      `iam_group/${G}`,
      `iam_user/${U1}`,
    ]);

    // The cycle r1 ↔ r2 terminates: each role appears once as a holder of the other's assignment.
    const a1 = await reach(r1);
    expect(a1.map((r) => [r.depth, r.principal_type, r.principal_id])).toEqual([
      [0, "iam_group", G],
      [0, "iam_role", R2],
      [1, "iam_user", U1],
      [1, "iam_user", U2],
    ]);
    // No row anywhere walks a principal twice, and depth is bounded.
    await refreshGrantChains(db, SRC);
    const all = await sql<Row>`SELECT * FROM effective_grants WHERE source_id = ${SRC}`.execute(db);
    for (const r of all.rows) {
      expect(new Set(r.path).size).toBe(r.path.length);
      expect(r.depth).toBeLessThanOrEqual(5);
    }
  });

  it("keeps one-level sso_group expansion as before (via the group's member entitlement)", async () => {
    const member = await entitlement("sso_group", "g-1", "member");
    await grant(member, "sso_user", "u-1", false);
    const ent = "123456789012|arn:aws:sso:::permissionSet/ssoins-1/ps-1";
    await sql`INSERT INTO entitlements (source_id, id, resource_type, resource_id, slug, name, attrs, scope, first_seen_run, last_seen_run)
              VALUES (${SRC}, ${ent}, 'account', '123456789012', 'ps', 'ps', '{}', NULL, ${run}, ${run})`.execute(
      db,
    );
    await grant(ent, "sso_group", "g-1", true);
    expect((await reach(ent)).map((r) => [r.principal_type, r.principal_id, r.via_type, r.via_id])).toEqual([
      ["sso_group", "g-1", null, null],
      ["sso_user", "u-1", "sso_group", "g-1"],
    ]);
  });
});

interface ExactRow {
  principal_type: string;
  principal_id: string;
  depth: number;
  active: boolean;
  conditional: boolean;
  derived_from: string | null;
  grant_ids: string[];
}

async function exact(ent: string): Promise<ExactRow[]> {
  await refreshGrantChains(db, SRC);
  const r = await sql<ExactRow>`
    SELECT principal_type, principal_id, depth, active, conditional, derived_from, grant_ids
      FROM effective_grants WHERE source_id = ${SRC} AND entitlement_id = ${ent}
     ORDER BY depth, principal_type, principal_id`.execute(db);
  return r.rows;
}

describe("effective_grants: active, conditional, derived_from, grant_ids (migration 0006)", () => {
  const SUSP = "222222222222";
  const OK = "333333333333";
  const PS = "arn:aws:sso:::permissionSet/ssoins-1/ps-6";
  const RA = `arn:aws:iam::${OK}:role/admin`;
  const RB = `arn:aws:iam::${OK}:role/deploy`;
  const UOK = `arn:aws:iam::${OK}:user/carol`;
  const USUSP = `arn:aws:iam::${SUSP}:user/dave`;

  it("marks disabled users and suspended accounts inactive, on the target's and on the principal's side", async () => {
    await resource("account", SUSP, { suspended: true });
    await resource("account", OK, { suspended: false });
    await resource("sso_user", "u-dis", { status: "DISABLED" });
    await resource("sso_user", "u-ok", { status: "ENABLED" });
    const member = await entitlement("sso_group", "g-6", "member");
    await grant(member, "sso_user", "u-dis", false);
    await grant(member, "sso_user", "u-ok", false);
    const onOk = await entitlement("account", OK, `permission-set:${PS}`);
    await grant(onOk, "sso_group", "g-6", true);
    const onSusp = await entitlement("account", SUSP, `permission-set:${PS}`);
    await grant(onSusp, "sso_user", "u-ok", false);
    const ra = await entitlement("iam_role", RA, "assignment");
    await grant(ra, "aws_account", SUSP, false);
    await grant(ra, "iam_user", USUSP, false);
    await grant(ra, "iam_user", UOK, false);

    expect((await exact(onOk)).map((r) => [r.principal_id, r.active])).toEqual([
      ["g-6", true],
      ["u-dis", false],
      ["u-ok", true],
    ]);
    expect((await exact(onSusp)).map((r) => [r.principal_id, r.active])).toEqual([["u-ok", false]]);
    expect((await exact(ra)).map((r) => [r.principal_id, r.active])).toEqual([
      [SUSP, false],
      [USUSP, false],
      [UOK, true],
    ]);
  });

  it("carries the path's grants, whether any is conditional, and the first derivation", async () => {
    const rb = await entitlement("iam_role", RB, "assignment");
    const pol = await entitlement("iam_policy", "arn:aws:iam::aws:policy/PowerUserAccess", "attached");
    const polRb = await grant(pol, "iam_role", RB, true);
    // RB trusts RA under a condition; RA is assumable by a user grantline derived from an account-root trust.
    const rbRa = await grant(rb, "iam_role", RA, true, false, { conditional: true });
    const raUser = await grant(
      `iam_role:${RA}:assignment`,
      "iam_user",
      `arn:aws:iam::${OK}:user/erin`,
      false,
      false,
      { derivedFrom: "account-trust", conditional: false },
    );
    const rows = await exact(pol);
    expect(rows.find((r) => r.depth === 0)).toMatchObject({
      principal_id: RB,
      conditional: false,
      derived_from: null,
      grant_ids: [polRb],
    });
    expect(rows.find((r) => r.depth === 1)).toMatchObject({
      principal_id: RA,
      conditional: true,
      derived_from: null,
      grant_ids: [polRb, rbRa],
    });
    expect(rows.find((r) => r.principal_id.endsWith("user/erin"))).toMatchObject({
      depth: 2,
      active: true,
      conditional: true,
      derived_from: "account-trust",
      grant_ids: [polRb, rbRa, raUser],
    });
    // The derived grant alone: not conditional, but derived.
    expect((await exact(`iam_role:${RA}:assignment`)).find((r) => r.grant_ids[0] === raUser)).toMatchObject({
      conditional: false,
      derived_from: "account-trust",
    });
  });
});
