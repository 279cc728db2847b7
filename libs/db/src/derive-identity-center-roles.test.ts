import { sql } from "kysely";
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

const SRC = "ic";
const A = "111111111111";
const PS_ADMIN = "arn:aws:sso:::permissionSet/ssoins-1/ps-admin";
const PS_RO = "arn:aws:sso:::permissionSet/ssoins-1/ps-ro";
const SSO_PATH = "/aws-reserved/sso.amazonaws.com/eu-west-1/";
// The set's name has an underscore: only the last one separates the suffix.
const ROLE_ADMIN = `arn:aws:iam::${A}:role${SSO_PATH}AWSReservedSSO_Admin_Team_0123abcd4567ef89`;
const ROLE_RO = `arn:aws:iam::${A}:role${SSO_PATH}AWSReservedSSO_ReadOnly_89ab01cd`;
// Named like one, but not where Identity Center puts its roles: not linked.
const DECOY = `arn:aws:iam::${A}:role/AWSReservedSSO_ReadOnly_ffff0000`;

const role = (arn: string, path: string) =>
  resource("iam_role", arn, { accountId: A, path }, { name: arn.slice(arn.lastIndexOf("/") + 1) });

function rows(assignments: Array<[string, string, "sso_user" | "sso_group", string]>): TaskRows[] {
  return [
    {
      scope: "iam",
      resources: [
        resource("account", A),
        resource("permission_set", PS_ADMIN, {}, { name: "Admin_Team" }),
        resource("permission_set", PS_RO, {}, { name: "ReadOnly" }),
        role(ROLE_ADMIN, SSO_PATH),
        role(ROLE_RO, SSO_PATH),
        role(DECOY, "/"),
      ],
      entitlements: [ROLE_ADMIN, ROLE_RO, DECOY].map((r) => entitlement("iam_role", r, "assignment")),
    },
    {
      scope: "assignments",
      grants: assignments.map(([acct, ps, type, id]) => grant(`${acct}|${ps}`, type, id)),
    },
  ];
}

const assignment = (roleArn: string) => `iam_role:${roleArn}:assignment`;

describe("deriveIdentityCenterRoles (at the end of a successful run)", () => {
  it("links each assignment to the role Identity Center provisioned for it, with one event per change", async () => {
    const assignments: Array<[string, string, "sso_user" | "sso_group", string]> = [
      [A, PS_ADMIN, "sso_group", "g-1"],
      [A, PS_ADMIN, "sso_user", "u-1"],
      [A, PS_RO, "sso_user", "u-2"],
      // No Identity Center role in this account (not provisioned, or its IAM not synced): nothing to link.
      ["222222222222", PS_ADMIN, "sso_user", "u-3"],
    ];
    const run1 = await syncRun(testDb.db, SRC, rows(assignments));
    const expected = [
      `${assignment(ROLE_ADMIN)}:sso_group:g-1#identity-center`,
      `${assignment(ROLE_ADMIN)}:sso_user:u-1#identity-center`,
      `${assignment(ROLE_RO)}:sso_user:u-2#identity-center`,
    ];
    expect(await liveGrantIds(testDb.db, SRC, "derived:identity-center")).toEqual(expected);
    const created = await runEvents(testDb.db, SRC, run1, "grant.created");
    expect(created.map((e) => e.grantId).filter((id) => String(id).endsWith("#identity-center"))).toEqual(
      expect.arrayContaining(expected),
    );
    expect(created.filter((e) => String(e.grantId).endsWith("#identity-center"))).toHaveLength(3);
    const g = await testDb.db
      .selectFrom("grants")
      .select(["expandable", "attrs", "principal_type"])
      .where("source_id", "=", SRC)
      .where("id", "=", expected[0]!)
      .executeTakeFirstOrThrow();
    expect(g).toEqual({
      expandable: true,
      principal_type: "sso_group",
      attrs: {
        derivedFrom: "identity-center",
        accountId: A,
        permissionSetArn: PS_ADMIN,
        viaEntitlement: `${A}|${PS_ADMIN}`,
        conditional: false,
      },
    });

    // The same assignments again: nothing new to say.
    const run2 = await syncRun(testDb.db, SRC, rows(assignments));
    expect(
      (await runEvents(testDb.db, SRC, run2, "grant.created")).filter((e) =>
        String(e.grantId).endsWith("#identity-center"),
      ),
    ).toEqual([]);

    // u-1 loses the admin set: its derived grant is revoked, once, and counted in the run's stats.
    const run3 = await syncRun(testDb.db, SRC, rows(assignments.filter(([, , , id]) => id !== "u-1")));
    const revoked = (await runEvents(testDb.db, SRC, run3, "grant.revoked")).map((e) => e.grantId);
    expect(revoked).toContain(expected[1]);
    expect(revoked.filter((id) => String(id).endsWith("#identity-center"))).toEqual([expected[1]]);
    expect(await liveGrantIds(testDb.db, SRC, "derived:identity-center")).toEqual([expected[0], expected[2]]);
    const run = await testDb.db
      .selectFrom("runs")
      .select("stats")
      .where("id", "=", run3)
      .executeTakeFirstOrThrow();
    // u-1's assignment (scope sweep) and the grant derived from it (final sweep).
    expect(run.stats.grantsRevoked).toBe(2);
  });

  it("lets effective_grants answer 'who can use the role' with the group's members, marked derived", async () => {
    await sql`INSERT INTO entitlements (source_id, id, resource_type, resource_id, slug, name, attrs, first_seen_run, last_seen_run)
              SELECT ${SRC}, 'sso_group:g-1:member', 'sso_group', 'g-1', 'member', 'm', '{}', first_seen_run, last_seen_run
                FROM grants WHERE source_id = ${SRC} LIMIT 1`.execute(testDb.db);
    await sql`INSERT INTO grants (source_id, id, entitlement_id, principal_type, principal_id, expandable, attrs, first_seen_run, last_seen_run)
              SELECT ${SRC}, 'm1', 'sso_group:g-1:member', 'sso_user', 'u-9', false, '{}', first_seen_run, last_seen_run
                FROM grants WHERE source_id = ${SRC} LIMIT 1`.execute(testDb.db);
    const r = await sql<{ principal_id: string; derived_from: string | null; via_id: string | null }>`
      SELECT principal_id, derived_from, via_id FROM effective_grants
       WHERE source_id = ${SRC} AND entitlement_id = ${assignment(ROLE_ADMIN)} ORDER BY principal_id`.execute(
      testDb.db,
    );
    expect(r.rows).toEqual([
      { principal_id: "g-1", derived_from: "identity-center", via_id: null },
      { principal_id: "u-9", derived_from: "identity-center", via_id: "g-1" },
    ]);
  });
});
