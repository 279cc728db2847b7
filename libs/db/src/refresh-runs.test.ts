import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { ObjectSweep, RefreshIntent } from "@grantline/contracts";
import type { Db } from "./create-db.ts";
import { applyBatch, deriveOwed, sourcesOwingDerivation, startRun } from "./index.ts";
import { useMigratedTestDb } from "./migrated-test-db.fixture.ts";
import { enqueueRefreshes } from "./refresh-queue.ts";
import { planRefresh, startRefreshRun } from "./refresh-runs.ts";
import { resolveRefreshTarget } from "./refresh-target.ts";
import {
  diagRequest,
  entitlement,
  grant,
  resource,
  runEvents,
  subjects,
  syncRun,
  type TaskRows,
} from "./sync-run.fixture.ts";

const testDb = useMigratedTestDb();
const STORE = "d-1";
const INSTANCE = "arn:aws:sso:::instance/ssoins-1";
const PS = "arn:aws:sso:::permissionSet/ssoins-1/ps-1";
const ACCT = "111111111111";

const member = entitlement("sso_group", "g1", "member");
/** A small synced source: users u1, u2 in group g1 (memberships m1, m2), u1 assigned PS on ACCT, one OU. */
async function seed(db: Db, src: string): Promise<string> {
  return syncRun(db, src, [
    { scope: `idstore-users:${STORE}`, resources: [resource("sso_user", "u1"), resource("sso_user", "u2")] },
    { scope: `idstore-groups:${STORE}`, resources: [resource("sso_group", "g1")], entitlements: [member] },
    {
      scope: "sso-members:g1",
      grants: [
        grant(member.id, "sso_user", "u1", { membershipId: "m1" }),
        grant(member.id, "sso_user", "u2", { membershipId: "m2" }),
      ],
    },
    {
      scope: "orgs",
      scopeComplete: false,
      resources: [
        resource("account", ACCT),
        resource("permission_set", PS, {}, { parentType: "sso_instance", parentId: INSTANCE }),
        resource("organizational_unit", "ou-1", {}, { parentType: "root", parentId: "r-1" }),
        resource("organizational_unit", "ou-2", {}, { parentType: "root", parentId: "r-1" }),
      ],
    },
    {
      scope: `sso-assign:${ACCT}|${PS}`,
      grants: [
        grant(`${ACCT}|${PS}`, "sso_user", "u1", { accountId: ACCT, permissionSetArn: PS }),
        grant(`${ACCT}|${PS}`, "sso_group", "g1", { accountId: ACCT, permissionSetArn: PS }),
      ],
    },
  ]);
}

async function queue(db: Db, src: string, intents: RefreshIntent[]): Promise<void> {
  await db.transaction().execute((tx) =>
    enqueueRefreshes(
      tx,
      src,
      intents.map((intent) => ({ intent, requestedBy: "test" })),
    ),
  );
}

const start = (db: Db, src: string) =>
  startRefreshRun(db, {
    sourceId: src,
    runId: randomUUID(),
    subjects,
    fullRunRoots: (runId) => [diagRequest(runId, src)],
  });

/** Settles every pending task of `runId` with the rows `rowsFor` gives for its operation (nothing by default). */
async function settle(
  db: Db,
  src: string,
  runId: string,
  rowsFor: (operation: string) => TaskRows & { objectSweeps?: ObjectSweep[] } = () => ({ scope: "" }),
): Promise<void> {
  const tasks = await db
    .selectFrom("tasks")
    .select(["id", "operation", "scope"])
    .where("run_id", "=", runId)
    .where("status", "=", "pending")
    .execute();
  for (const t of tasks) {
    const rows = rowsFor(t.operation);
    const r = await applyBatch(db, subjects, {
      v: 1,
      taskId: t.id,
      runId,
      sourceId: src,
      scope: t.scope,
      resources: rows.resources ?? [],
      entitlements: rows.entitlements ?? [],
      grants: rows.grants ?? [],
      children: [],
      scopeComplete: rows.scopeComplete ?? false,
      keepScopes: [],
      objectSweeps: rows.objectSweeps,
      stats: { awsCalls: 1, throttled: 0 },
      warnings: [],
    });
    expect(r.applied).toBe(true);
  }
}

async function run(db: Db, runId: string) {
  return db
    .selectFrom("runs")
    .select(["status", "kind", "stats"])
    .where("id", "=", runId)
    .executeTakeFirstOrThrow();
}

const live = async (db: Db, src: string) => ({
  resources: (
    await db
      .selectFrom("resources")
      .select(["type", "id"])
      .where("source_id", "=", src)
      .where("deleted_at", "is", null)
      .orderBy("type")
      .orderBy("id")
      .execute()
  ).map((r) => `${r.type}/${r.id}`),
  grants: (
    await db
      .selectFrom("grants")
      .select("id")
      .where("source_id", "=", src)
      .where("revoked_at", "is", null)
      .orderBy("id")
      .execute()
  ).map((r) => r.id),
});

describe("planRefresh", () => {
  it("adds what only the synced rows know and reads each object once", async () => {
    const db = testDb.db;
    const src = "plan";
    await seed(db, src);
    const plan = await db.transaction().execute((tx) =>
      planRefresh(tx, src, randomUUID(), [
        { kind: "membership", identityStoreId: STORE, membershipId: "m2" },
        { kind: "group-members", identityStoreId: STORE, groupId: "g1" },
        { kind: "membership", identityStoreId: STORE, membershipId: "m-unknown" },
        { kind: "permission-set-accounts", instanceArn: INSTANCE, permissionSetArn: PS },
      ]),
    );
    expect(plan.requests.map((r) => [r.operation, r.scope])).toEqual([
      ["ListGroupMemberships", "sso-members:g1"],
      ["ListAccountsForProvisionedPermissionSet", null],
      ["ListAccountAssignments", `sso-assign:${ACCT}|${PS}`],
    ]);
    expect(plan.unresolved).toEqual(["membership m-unknown: no synced group member carries it"]);
  });

  it("a role's refresh also reads the roles whose trust names it", async () => {
    const db = testDb.db;
    const src = "plan-iam";
    const arn = (acct: string, n: string) => `arn:aws:iam::${acct}:role/${n}`;
    const trusting = entitlement("iam_role", arn("222222222222", "deploy"), "assignment");
    await syncRun(db, src, [
      {
        scope: "iam",
        resources: [
          // Both accounts' IAM is synced: IAM intents elsewhere are not planned.
          resource("iam_account", ACCT, {}, { name: ACCT }),
          resource("iam_account", "222222222222", {}, { name: "222222222222" }),
          resource("iam_role", arn(ACCT, "ci"), { accountId: ACCT }, { name: "ci" }),
          resource(
            "iam_role",
            arn("222222222222", "deploy"),
            { accountId: "222222222222" },
            { name: "deploy" },
          ),
        ],
        entitlements: [trusting],
        grants: [grant(trusting.id, "iam_role", arn(ACCT, "ci"))],
      },
    ]);
    const plan = await db
      .transaction()
      .execute((tx) =>
        planRefresh(tx, src, randomUUID(), [{ kind: "iam-role", accountId: ACCT, roleName: "ci" }]),
      );
    expect(plan.requests.map((r) => [r.operation, r.accountId, r.params.Arn])).toEqual([
      ["RefreshRole", ACCT, arn(ACCT, "ci")],
      ["RefreshRole", "222222222222", arn("222222222222", "deploy")],
    ]);
  });
});

describe("startRefreshRun", () => {
  it("starts nothing while a full run is active, and takes each queued row once", async () => {
    const db = testDb.db;
    const src = "one-active";
    await seed(db, src);
    await queue(db, src, [{ kind: "sso-user", identityStoreId: STORE, userId: "u1" }]);
    const fullRun = randomUUID();
    await startRun(db, { sourceId: src, runId: fullRun, roots: [diagRequest(fullRun, src)], subjects });
    const blocked = await start(db, src);
    expect([blocked.runId, blocked.activeRunId, blocked.taken]).toEqual([null, fullRun, 0]);
    await settle(db, src, fullRun, () => ({ scope: "x", scopeComplete: false }));
    expect((await run(db, fullRun)).status).toBe("succeeded");
    // The row was queued before the full run started: the full run read the change, so it settles the row.
    const after = await db
      .selectFrom("refresh_queue")
      .select(["run_id", "done_at"])
      .where("source_id", "=", src)
      .execute();
    expect(after.map((r) => [r.run_id, r.done_at !== null])).toEqual([[fullRun, true]]);

    await queue(db, src, [
      { kind: "sso-user", identityStoreId: STORE, userId: "u2" },
      { kind: "sso-group", identityStoreId: STORE, groupId: "g1" },
    ]);
    const [a, b] = await Promise.all([start(db, src), start(db, src)]);
    const started = [a, b].filter((x) => x.runId !== null);
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ kind: "refresh", taken: 2, tasks: 2, finished: null });
    expect((await start(db, src)).activeRunId).toBe(started[0]!.runId);
  });

  it("a queued `source` intent starts a full run instead; a refresh with nothing to read completes at once", async () => {
    const db = testDb.db;
    const src = "full-instead";
    await seed(db, src);
    await queue(db, src, [{ kind: "sso-user", identityStoreId: STORE, userId: "u1" }, { kind: "source" }]);
    const full = await start(db, src);
    expect(full).toMatchObject({ kind: "full", taken: 2, tasks: 1 });
    expect((await run(db, full.runId!)).kind).toBe("full");
    await settle(db, src, full.runId!);

    await queue(db, src, [{ kind: "membership", identityStoreId: STORE, membershipId: "gone" }]);
    const empty = await start(db, src);
    expect(empty).toMatchObject({ kind: "refresh", taken: 1, tasks: 0, finished: "succeeded" });
    expect((await run(db, empty.runId!)).stats).toMatchObject({ refreshes: 1, grantsRevoked: 0 });
  });
});

describe("a refresh run", () => {
  it("deletes a vanished user with its grants, changes nothing it did not read, and sweeps no source", async () => {
    const db = testDb.db;
    const src = "vanished";
    await seed(db, src);
    const before = await live(db, src);
    await queue(db, src, [{ kind: "sso-user", identityStoreId: STORE, userId: "u1" }]);
    const r = await start(db, src);
    await settle(db, src, r.runId!, () => ({
      scope: "",
      objectSweeps: [
        { kind: "resource", type: "sso_user", id: "u1" },
        { kind: "held-by", principalType: "sso_user", principalId: "u1", scope: null },
      ],
    }));
    const after = await live(db, src);
    expect(await run(db, r.runId!)).toMatchObject({
      status: "succeeded",
      kind: "refresh",
      stats: { refreshes: 1, resourcesDeleted: 1, grantsRevoked: 2 },
    });
    expect(before.resources.filter((x) => !after.resources.includes(x))).toEqual(["sso_user/u1"]);
    expect(before.grants.filter((x) => !after.grants.includes(x)).sort()).toEqual(
      [`${ACCT}|${PS}:sso_user:u1`, `${member.id}:sso_user:u1`].sort(),
    );
    // Rows no task of the refresh read (u2, g1's other grants, the OUs) survive: no source-wide sweep.
    expect(after.resources).toContain("sso_user/u2");
    expect(after.grants).toContain(`${member.id}:sso_user:u2`);
    expect((await runEvents(db, src, r.runId!, "resource.deleted")).map((e) => e.resourceId)).toEqual(["u1"]);
    const done = await db
      .selectFrom("refresh_queue")
      .select("done_at")
      .where("run_id", "=", r.runId)
      .executeTakeFirstOrThrow();
    expect(done.done_at).not.toBeNull();
  });

  it("a user read again is updated in place; the tree walk deletes the OU its parent no longer lists", async () => {
    const db = testDb.db;
    const src = "updated";
    await seed(db, src);
    await queue(db, src, [
      { kind: "sso-user", identityStoreId: STORE, userId: "u2" },
      { kind: "organization-tree" },
    ]);
    const r = await start(db, src);
    await settle(db, src, r.runId!, (op) =>
      op === "DescribeUser"
        ? { scope: "", resources: [resource("sso_user", "u2", { renamed: true })] }
        : {
            scope: "",
            resources: [resource("organizational_unit", "ou-1", {}, { parentType: "root", parentId: "r-1" })],
            objectSweeps: [
              {
                kind: "children",
                parentType: "root",
                parentId: "r-1",
                type: "organizational_unit",
                except: [],
              },
            ],
          },
    );
    expect((await run(db, r.runId!)).stats).toMatchObject({
      resourcesUpdated: 1,
      resourcesDeleted: 1,
      grantsRevoked: 0,
    });
    expect((await runEvents(db, src, r.runId!, "resource.deleted")).map((e) => e.resourceId)).toEqual([
      "ou-2",
    ]);
    expect((await live(db, src)).resources).toContain("organizational_unit/ou-1");
  });

  it("a held-by sweep limited to resource types leaves the principal's other grants", async () => {
    const db = testDb.db;
    const src = "held-by-types";
    const role = `arn:aws:iam::${ACCT}:role/ci`;
    const trusting = entitlement("iam_role", `arn:aws:iam::${ACCT}:role/deploy`, "assignment");
    const policy = entitlement("iam_policy", `arn:aws:iam::${ACCT}:policy/p`, "attached");
    await syncRun(db, src, [
      {
        scope: "iam",
        entitlements: [trusting, policy],
        grants: [grant(trusting.id, "iam_role", role), grant(policy.id, "iam_role", role)],
      },
    ]);
    await queue(db, src, [{ kind: "account", accountId: ACCT }]);
    const r = await start(db, src);
    await settle(db, src, r.runId!, () => ({
      scope: "",
      objectSweeps: [
        {
          kind: "held-by",
          principalType: "iam_role",
          principalId: role,
          scope: null,
          resourceTypes: ["iam_policy"],
        },
      ],
    }));
    expect((await live(db, src)).grants).toEqual([`${trusting.id}:iam_role:${role}`]);
  });

  it("reads no IAM in an account that is not ACTIVE; an account's refresh re-reads every SCP/RCP's targets", async () => {
    const db = testDb.db;
    const src = "inactive";
    const gone = "222222222222";
    await syncRun(db, src, [
      {
        scope: "orgs",
        scopeComplete: false,
        resources: [
          resource("account", ACCT, { suspended: true }),
          resource("account", gone),
          resource("org_policy", "p-FullAWSAccess", { policyType: "SERVICE_CONTROL_POLICY" }),
        ],
      },
    ]);
    const plan = await db.transaction().execute((tx) =>
      planRefresh(tx, src, randomUUID(), [
        { kind: "iam-user", accountId: ACCT, userName: "bob" },
        { kind: "account", accountId: gone },
      ]),
    );
    expect(plan.unresolved).toEqual([
      `iam-user in account ${ACCT}: the account is not ACTIVE (or left), its IAM is not read`,
    ]);
    expect(plan.requests.map((r) => [r.operation, r.params.PolicyId ?? r.params.AccountId])).toEqual([
      ["DescribeAccount", gone],
      ["DescribePolicy", "p-FullAWSAccess"],
    ]);
  });

  it("with cross-account IAM, an account's refresh stands for its IAM refreshes in the same run", async () => {
    const db = testDb.db;
    const src = "plan-account-iam";
    const other = "222222222222";
    await syncRun(db, src, [
      {
        scope: "orgs",
        scopeComplete: false,
        resources: [
          resource("account", ACCT),
          resource("account", other),
          resource("iam_account", ACCT, {}, { name: ACCT }),
          resource("iam_account", other, {}, { name: other }),
        ],
      },
    ]);
    const plan = (iamCrossAccount: boolean) =>
      db.transaction().execute((tx) =>
        planRefresh(
          tx,
          src,
          randomUUID(),
          [
            { kind: "iam-role", accountId: ACCT, roleName: "new-role" },
            { kind: "account", accountId: ACCT },
            { kind: "iam-user-keys", accountId: other, userName: "bob" },
          ],
          { iamCrossAccount },
        ),
      );
    // The account closed right after the role was made: its sweep must not race a role read with old credentials.
    expect((await plan(true)).requests.map((r) => [r.operation, r.accountId])).toEqual([
      ["DescribeAccount", null],
      ["RefreshUser", other],
    ]);
    expect((await plan(false)).requests.map((r) => r.operation)).toContain("RefreshRole");
  });

  it("a scope sweep takes a scope and its sub-scopes, and nothing else", async () => {
    const db = testDb.db;
    const src = "scope-sweep";
    await syncRun(db, src, [
      { scope: `iam:${ACCT}`, resources: [resource("iam_user", "u-a")] },
      { scope: `iam:${ACCT}:keys`, scopeComplete: false, resources: [resource("access_key", "k-a")] },
      { scope: `iam:${ACCT}9`, resources: [resource("iam_user", "u-other")] },
    ]);
    await queue(db, src, [{ kind: "account", accountId: ACCT }]);
    const r = await start(db, src);
    await settle(db, src, r.runId!, () => ({
      scope: "",
      objectSweeps: [{ kind: "scope", scope: `iam:${ACCT}` }],
    }));
    expect((await live(db, src)).resources).toEqual(["iam_user/u-other"]);
  });

  it("leaves its derivations owed; the deriver's: a deleted permission set's pair entitlements go, with the grants on them", async () => {
    const db = testDb.db;
    const src = "derived";
    await seed(db, src);
    const ents = async () =>
      (
        await db
          .selectFrom("entitlements")
          .select("id")
          .where("source_id", "=", src)
          .where("resource_type", "=", "account")
          .where("deleted_at", "is", null)
          .execute()
      ).map((e) => e.id);
    expect(await ents()).toEqual([`${ACCT}|${PS}`]);
    await queue(db, src, [{ kind: "permission-set", instanceArn: INSTANCE, permissionSetArn: PS }]);
    const r = await start(db, src);
    await settle(db, src, r.runId!, () => ({
      scope: "",
      objectSweeps: [{ kind: "resource", type: "permission_set", id: PS }],
    }));
    // The run ended with its derivations owed: the pair's entitlement is still there until the deriver runs.
    const owed = () =>
      db.selectFrom("sources").select("derive_run").where("id", "=", src).executeTakeFirstOrThrow();
    expect((await owed()).derive_run).toBe(r.runId);
    expect(await ents()).toEqual([`${ACCT}|${PS}`]);
    expect(await sourcesOwingDerivation(db)).toContain(src);
    const derived = await deriveOwed(db, subjects, src);
    expect(derived).toMatchObject({ runId: r.runId, events: { grantsRevoked: 2 } });
    expect(await ents()).toEqual([]);
    expect((await live(db, src)).grants.filter((g) => g.startsWith(`${ACCT}|`))).toEqual([]);
    expect((await run(db, r.runId!)).stats).toMatchObject({
      resourcesDeleted: 1,
      derivedGrantsRevoked: 2,
    });
    expect((await owed()).derive_run).toBeNull();
    expect(await deriveOwed(db, subjects, src)).toBeNull(); // nothing owed any more
  });

  it("the deriver leaves what a running run wrote, and a run ending during a derivation is owed again", async () => {
    const db = testDb.db;
    const src = "derived-race";
    await seed(db, src);
    // Refresh run 1 ends: it owes a derivation.
    await queue(db, src, [{ kind: "sso-user", identityStoreId: STORE, userId: "u2" }]);
    const r1 = await start(db, src);
    await settle(db, src, r1.runId!, () => ({ scope: "", resources: [resource("sso_user", "u2")] }));
    // Run 2 starts and writes a grant on a pair no permission set provisions any more (its entitlement is
    // about to be swept by the derivation): the grant is its, not stale.
    await queue(db, src, [{ kind: "sso-user", identityStoreId: STORE, userId: "u1" }]);
    const r2 = await start(db, src);
    expect(r2.runId).toBeTruthy();
    await db
      .updateTable("resources")
      .set({ deleted_at: new Date() })
      .where("source_id", "=", src)
      .where("type", "=", "permission_set")
      .execute();
    await db
      .updateTable("grants")
      .set({ last_seen_run: r2.runId! })
      .where("source_id", "=", src)
      .where("principal_id", "=", "u1")
      .where("entitlement_id", "=", `${ACCT}|${PS}`)
      .execute();
    const d1 = await deriveOwed(db, subjects, src);
    expect(d1?.runId).toBe(r1.runId);
    const held = await live(db, src);
    expect(held.grants.filter((g) => g.startsWith(`${ACCT}|`))).toHaveLength(1); // u1's, run 2's, kept
    // Run 2 ends: owed again. Its derivation spares what run 2 itself stamped (as a run's end always did); the
    // next run's, once run 2 is no longer running, revokes it.
    await settle(db, src, r2.runId!, () => ({ scope: "", resources: [resource("sso_user", "u1")] }));
    expect((await deriveOwed(db, subjects, src))?.runId).toBe(r2.runId);
    await queue(db, src, [{ kind: "sso-user", identityStoreId: STORE, userId: "u2" }]);
    const r3 = await start(db, src);
    await settle(db, src, r3.runId!, () => ({ scope: "", resources: [resource("sso_user", "u2")] }));
    expect((await deriveOwed(db, subjects, src))?.runId).toBe(r3.runId);
    expect((await live(db, src)).grants.filter((g) => g.startsWith(`${ACCT}|`))).toEqual([]);
  });
});

describe("resolveRefreshTarget", () => {
  it("names an object's refreshes from the synced rows; an unknown one is an error", async () => {
    const db = testDb.db;
    const src = "target";
    await syncRun(db, src, [
      {
        scope: "x",
        resources: [
          resource("sso_user", "u1", { identityStoreId: STORE }),
          resource("permission_set", PS, {}, { parentType: "sso_instance", parentId: INSTANCE }),
        ],
      },
    ]);
    expect(await resolveRefreshTarget(db, src, "sso_user:u1")).toEqual({
      intents: [{ kind: "sso-user", identityStoreId: STORE, userId: "u1" }],
    });
    expect(await resolveRefreshTarget(db, src, `permission_set:${PS}`)).toEqual({
      intents: [
        { kind: "permission-set", instanceArn: INSTANCE, permissionSetArn: PS },
        { kind: "permission-set-accounts", instanceArn: INSTANCE, permissionSetArn: PS },
      ],
    });
    expect(await resolveRefreshTarget(db, src, `iam_role:arn:aws:iam::${ACCT}:role/ops/deploy`)).toEqual({
      intents: [{ kind: "iam-role", accountId: ACCT, roleName: "deploy" }],
    });
    // No synced row and no single identity store to look in.
    expect(await resolveRefreshTarget(db, src, "sso_group:g9")).toEqual({
      error: `no sso_group "g9" in source ${src} (run grantline sync first?)`,
    });
    expect(await resolveRefreshTarget(db, src, "grant:x")).toMatchObject({ error: /cannot refresh a grant/ });
  });
});
