import { describe, expect, it } from "vitest";
import { GrantlineEvent, SEQUENCE_DIGITS, type Grant } from "@grantline/contracts";
import { waitFor } from "@grantline/testing";
import { sql } from "kysely";
import { outboxMessages } from "./compact-events.ts";
import { useMigratedTestDb } from "./migrated-test-db.fixture.ts";
import { eventRow, insertEvents, type EventContext } from "./outbox-rows.ts";
import { subjects, syncRun } from "./sync-run.fixture.ts";
import { upsertGrants } from "./upsert-grants.ts";

const testDb = useMigratedTestDb();

const ENTITLEMENT = "group:g:member";

function grant(principalId: string): Grant {
  return {
    id: `${ENTITLEMENT}|${principalId}`,
    entitlementId: ENTITLEMENT,
    principalType: "sso_user",
    principalId,
    expandable: false,
    attrs: {},
  };
}

/** A full run that sees exactly `users` (id → name), each a member of one group, to completion. */
function fullRun(sourceId: string, users: Record<string, string>): Promise<string> {
  return syncRun(testDb.db, sourceId, [
    {
      scope: "s1",
      resources: Object.entries(users).map(([id, name]) => ({
        type: "sso_user",
        id,
        parentType: null,
        parentId: null,
        name,
        attrs: {},
      })),
      entitlements: [
        {
          id: ENTITLEMENT,
          resourceType: "sso_group",
          resourceId: "g",
          slug: "member",
          name: "member",
          attrs: {},
        },
      ],
      grants: Object.keys(users).map(grant),
    },
  ]);
}

/** The source's events parsed with the public schema, ordered as a consumer would: by `sequence`. */
async function events(sourceId: string): Promise<GrantlineEvent[]> {
  const rows = await outboxMessages(testDb.db, `t.events.${sourceId}.`);
  return rows
    .map((r) => GrantlineEvent.parse(JSON.parse(r.payload)))
    .sort((x, y) => (x.sequence ?? "").localeCompare(y.sequence ?? ""));
}

function version(e: GrantlineEvent): bigint {
  expect(e.sequence).toMatch(new RegExp(`^\\d{${SEQUENCE_DIGITS}}$`));
  return BigInt(e.sequence ?? "");
}

describe("event versions (the CloudEvents sequence attribute)", () => {
  it("every event carries one; per key they increase across runs, and string order is numeric order", async () => {
    const src = "versions";
    const run1 = await fullRun(src, { a: "A", b: "B" });
    const run2 = await fullRun(src, { a: "A2" }); // a updated, b and its grant gone
    await fullRun(src, { a: "A2", b: "B" }); // b and its grant back

    const all = await events(src);
    for (const e of all) version(e);
    const bySubject = new Map<string, GrantlineEvent[]>();
    for (const e of all) bySubject.set(e.subject ?? "", [...(bySubject.get(e.subject ?? "") ?? []), e]);
    const typesOf = (subject: string) => (bySubject.get(subject) ?? []).map((e) => e.type.slice(14));
    expect(typesOf("resource/sso_user/a")).toEqual(["resource.created", "resource.updated"]);
    expect(typesOf("resource/sso_user/b")).toEqual([
      "resource.created",
      "resource.deleted",
      "resource.created",
    ]);
    expect(typesOf(`grant/${ENTITLEMENT}|b`)).toEqual(["grant.created", "grant.revoked", "grant.created"]);
    // Ordered by sequence, each key's events tell its history in the order it happened (above); numeric
    // order agrees with the string order used to sort, and no two events share a number.
    for (const [subject, es] of bySubject) {
      const vs = es.map(version);
      for (let i = 1; i < vs.length; i++) expect(vs[i]! > vs[i - 1]!, subject).toBe(true);
    }
    expect(new Set(all.map((e) => e.sequence)).size).toBe(all.length);
    const runEvents = all.filter((e) => e.type.startsWith("dev.grantline.run."));
    expect(runEvents.map((e) => [e.grantlinerunid, e.type.slice(14), e.data.kind])).toEqual(
      expect.arrayContaining([
        [run1, "run.started", "full"],
        [run1, "run.completed", "full"],
        [run2, "run.completed", "full"],
      ]),
    );
  });

  it("an event row inserted again keeps its id and its first version, and is not counted again", async () => {
    const src = "redelivered";
    const runId = await fullRun(src, { a: "A" });
    const before = await events(src);
    const ctx: EventContext = { subjects, sourceId: src, runId, initial: true, now: new Date() };
    const counts = await testDb.db
      .transaction()
      .execute(async (tx) =>
        insertEvents(tx, [
          eventRow(ctx, "run.started", `run/${runId}`, { runId }),
          eventRow(ctx, "resource.deleted", "resource/sso_user/gone", { resourceId: "gone" }),
        ]),
      );
    // The repeat of run.started is skipped; the new resource.deleted is the one row added, and counted.
    expect(counts.resourcesDeleted).toBe(1);
    const after = await events(src);
    expect(after.filter((e) => e.subject !== "resource/sso_user/gone")).toEqual(before);
    expect(after).toHaveLength(before.length + 1);
  });

  it("two transactions changing the same grant are numbered in commit order, whoever asked first", async () => {
    const src = "concurrent";
    await fullRun(src, { a: "A" });
    const runId = await fullRun(src, { a: "A" }); // changes nothing: the run the two transactions write for
    const ctx: EventContext = { subjects, sourceId: src, runId, initial: false, now: new Date() };
    const key = `grant/${ENTITLEMENT}|a`;

    let releaseA!: () => void;
    const aMayCommit = new Promise<void>((resolve) => (releaseA = resolve));
    let aLocked!: () => void;
    const aHasLock = new Promise<void>((resolve) => (aLocked = resolve));
    const order: string[] = [];
    // A revokes the grant (locking its row), then waits: B's revival must queue behind A's lock.
    const a = testDb.db.transaction().execute(async (tx) => {
      const revoked = await sql<{ id: string }>`
        UPDATE grants SET revoked_at = now() WHERE source_id = ${src} AND id = ${`${ENTITLEMENT}|a`}
        RETURNING id`.execute(tx);
      expect(revoked.rows).toHaveLength(1);
      aLocked();
      await aMayCommit;
      await insertEvents(tx, [eventRow(ctx, "grant.revoked", key, { grantId: `${ENTITLEMENT}|a` })]);
      order.push("A");
    });
    await aHasLock;
    const b = testDb.db.transaction().execute(async (tx) => {
      // Lock first, then upsert in a statement of its own: the upsert's "was it live?" reads the statement's
      // snapshot, which must postdate A's commit (runs never race like this: one active run per source).
      await sql`SELECT 1 FROM grants WHERE source_id = ${src} AND id = ${`${ENTITLEMENT}|a`} FOR UPDATE`.execute(
        tx,
      );
      await upsertGrants(tx, ctx, "s1", [grant("a")]);
      order.push("B");
    });
    // B is blocked on A's row lock before A takes its number.
    await waitFor(
      async () => {
        const r = await sql<{ n: number }>`
          SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(testDb.db);
        return (r.rows[0]?.n ?? 0) > 0;
      },
      { timeoutMs: 10_000, message: "B never waited for A's lock" },
    );
    releaseA();
    await Promise.all([a, b]);
    expect(order).toEqual(["A", "B"]);

    const mine = (await events(src)).filter((e) => e.subject === key && e.grantlinerunid === runId);
    expect(mine.map((e) => e.type.slice(14))).toEqual(["grant.revoked", "grant.created"]);
    const [revoked, created] = mine.map(version);
    expect(created! > revoked!).toBe(true);
    // And the grant is live again: the later version describes the final state.
    const g = await testDb.db
      .selectFrom("grants")
      .select("revoked_at")
      .where("source_id", "=", src)
      .where("id", "=", `${ENTITLEMENT}|a`)
      .executeTakeFirstOrThrow();
    expect(g.revoked_at).toBeNull();
  });
});
