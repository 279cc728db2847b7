import { describe, expect, it } from "vitest";
import { useMigratedTestDb } from "./migrated-test-db.fixture.ts";
import { entitlement, grant, resource, runEvents, syncRun } from "./sync-run.fixture.ts";

const testDb = useMigratedTestDb();

const stats = async (runId: string) =>
  (await testDb.db.selectFrom("runs").select("stats").where("id", "=", runId).executeTakeFirstOrThrow())
    .stats;

describe("completeRunIfDone", () => {
  it("reports every change event of the run: batches, their scope sweeps, and the final sweep", async () => {
    const src = "stats";
    const g = entitlement("sso_group", "g", "member");
    const members = (ids: string[]) => ids.map((u) => grant(g.id, "sso_user", u));
    const users = (ids: string[], attrs: Record<string, unknown> = {}) =>
      ids.map((u) => resource("sso_user", u, attrs));
    const run1 = await syncRun(testDb.db, src, [
      { scope: "s1", resources: users(["a", "b", "c"]), entitlements: [g], grants: members(["a", "b", "c"]) },
      { scope: "s2", resources: users(["d"]), grants: members(["d"]) },
    ]);
    expect(await stats(run1)).toMatchObject({
      grantsCreated: 4,
      grantsRevoked: 0,
      resourcesCreated: 4,
      resourcesUpdated: 0,
      resourcesDeleted: 0,
    });

    // s1's sweep (in its batch) revokes b and c and deletes their users; s2 is not closed this time, so the
    // final sweep takes d; a is updated, e is new.
    const run2 = await syncRun(testDb.db, src, [
      {
        scope: "s1",
        resources: [...users(["a"], { changed: true }), ...users(["e"])],
        entitlements: [g],
        grants: members(["a", "e"]),
      },
      { scope: "s2", scopeComplete: false },
    ]);
    expect(await stats(run2)).toMatchObject({
      grantsCreated: 1,
      grantsRevoked: 3,
      resourcesCreated: 1,
      resourcesUpdated: 1,
      resourcesDeleted: 3,
    });
    // The counts are the events: one each in the outbox.
    expect(await runEvents(testDb.db, src, run2, "grant.revoked")).toHaveLength(3);
    expect(await runEvents(testDb.db, src, run2, "resource.deleted")).toHaveLength(3);
  });

  it("keeps AWS-managed policies no account attaches any more; sweeps customer ones", async () => {
    const src = "managed";
    const aws = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    const mine = "arn:aws:iam::111111111111:policy/deploy";
    const role = "arn:aws:iam::111111111111:role/r";
    const policyRows = [
      resource("iam_policy", aws, { awsManaged: true, document: "{}" }, { scope: null }),
      resource("iam_policy", mine, { awsManaged: false, document: "{}" }),
    ];
    const ents = [
      entitlement("iam_policy", aws, "attached", { scope: null }),
      entitlement("iam_policy", mine, "attached"),
    ];
    await syncRun(testDb.db, src, [
      {
        scope: "iam:111111111111",
        resources: [resource("iam_role", role), ...policyRows],
        entitlements: ents,
        grants: [grant(ents[0]!.id, "iam_role", role), grant(ents[1]!.id, "iam_role", role)],
      },
    ]);
    // Nothing attaches either policy now, so GAAD lists neither.
    const run2 = await syncRun(testDb.db, src, [
      { scope: "iam:111111111111", resources: [resource("iam_role", role)] },
    ]);
    const live = await testDb.db
      .selectFrom("resources")
      .select("id")
      .where("source_id", "=", src)
      .where("type", "=", "iam_policy")
      .where("deleted_at", "is", null)
      .execute();
    expect(live.map((r) => r.id)).toEqual([aws]);
    const ent = await testDb.db
      .selectFrom("entitlements")
      .select(["id", "deleted_at"])
      .where("source_id", "=", src)
      .orderBy("id")
      .execute();
    expect(ent.map((e) => [e.id, e.deleted_at === null])).toEqual([
      [ents[1]!.id, false],
      [ents[0]!.id, true],
    ]);
    // The attachments themselves are gone, AWS-managed or not.
    expect(await runEvents(testDb.db, src, run2, "grant.revoked")).toHaveLength(2);
    expect((await runEvents(testDb.db, src, run2, "resource.deleted")).map((e) => e.resourceId)).toEqual([
      mine,
    ]);
  });
});
