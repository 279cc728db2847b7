import { describe, expect, it } from "vitest";
import { enqueueRefreshes } from "./refresh-queue.ts";
import { useMigratedTestDb } from "./migrated-test-db.fixture.ts";

const testDb = useMigratedTestDb();

describe("enqueueRefreshes", () => {
  it("queues each intent once while it waits, keeping the earliest cause", async () => {
    const db = testDb.db;
    await db.insertInto("sources").values({ id: "rq", last_completed_run: null }).execute();
    const intent = { kind: "group-members", identityStoreId: "d-1", groupId: "g-1" } as const;
    const first = await db.transaction().execute((tx) =>
      enqueueRefreshes(tx, "rq", [
        { intent, eventId: "e1", eventName: "CreateGroupMembership", eventTime: "2026-12-01T10:00:00Z" },
        { intent: { ...intent }, eventId: "e2", eventTime: "2026-12-01T10:00:05Z" },
        { intent: { kind: "sso-user", identityStoreId: "d-1", userId: "u-1" }, requestedBy: "operator" },
      ]),
    );
    expect(first).toBe(2);
    const again = await db
      .transaction()
      .execute((tx) =>
        enqueueRefreshes(tx, "rq", [{ intent, eventId: "e3", eventTime: "2026-12-01T10:01:00Z" }]),
      );
    expect(again).toBe(0);
    const rows = await db
      .selectFrom("refresh_queue")
      .select(["event_id", "intent", "requested_by"])
      .where("source_id", "=", "rq")
      .orderBy("id")
      .execute();
    expect(rows.map((r) => r.event_id)).toEqual(["e1", null]);
    expect(rows[1]?.requested_by).toBe("operator");
  });
});
