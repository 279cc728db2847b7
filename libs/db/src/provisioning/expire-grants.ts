import type { Subjects } from "@grantline/contracts";
import { dueExpiries } from "@grantline/model";
import type { Db } from "../create-db.ts";
import {
  audit,
  endHolders,
  eventData,
  factsOf,
  grantPresent,
  loadHolders,
  provisioningEvent,
  tryLockGrantKey,
} from "./provisioning-records.ts";

/** The system user that expiry revokes are requested as. */
export const EXPIRY_REQUESTER = "grantline-expiry";

export interface ExpirySweep {
  /** Grant requests whose hold ended by expiry. */
  expired: number;
  /** Revoke requests the expiries left for the executor (the last holder of a grant ended). */
  revokes: number;
}

const LIVE = ["accepted", "executing", "active"];

/**
 * Fires the expiries due at `now`; the scheduler leader runs it each tick. Expiries live in Postgres, so one due
 * while no scheduler ran fires at the next tick. Each grant is handled in its own transaction under its key's
 * lock, taken with try-lock: a concurrent sweep (another replica, a previous leader) skips the grant instead of
 * waiting, and a request already expired is not selected again — each expiry fires once. When the last holder
 * ends (never while a standing holder remains), a revoke request `expiry:<requestId>` is left in state
 * `accepted` for the executor.
 */
export async function expireDueGrants(
  db: Db,
  subjects: Subjects,
  now = new Date(),
  limit = 100,
): Promise<ExpirySweep> {
  const due = await db
    .selectFrom("provisioning_requests")
    .select("grant_key")
    .distinct()
    .where("verb", "=", "grant")
    .where("state", "in", LIVE)
    .where("expires_at", "<=", now)
    .limit(limit)
    .execute();
  const sweep: ExpirySweep = { expired: 0, revokes: 0 };
  for (const { grant_key: grantKey } of due) {
    const r = await db.transaction().execute(async (tx) => {
      if (!(await tryLockGrantKey(tx, grantKey))) return { expired: 0, revokes: 0 };
      const requests = await tx
        .selectFrom("provisioning_requests")
        .selectAll()
        .where("grant_key", "=", grantKey)
        .where("verb", "=", "grant")
        .where("state", "in", LIVE)
        .where("expires_at", "<=", now)
        .orderBy("id")
        .forUpdate()
        .skipLocked()
        .execute();
      if (requests.length === 0) return { expired: 0, revokes: 0 };
      const holders = await loadHolders(tx, grantKey);
      const due = dueExpiries(holders, now.getTime(), new Set(requests.map((q) => q.id)));
      const ending = due.ending;
      if (ending.length === 0) return { expired: 0, revokes: 0 };
      const remaining = holders.filter((h) => h.endedAt === null && !ending.includes(h.holder));
      const sourceId = requests[0]!.source_id;
      const grantId = grantKey.slice(sourceId.length + 1);
      const made =
        (await grantPresent(tx, sourceId, grantId)) ||
        requests.some((q) => ending.includes(q.id) && (q.state === "executing" || q.state === "active"));
      // The holder logic decides (none left after these); AWS is asked only when the access was made.
      const revoke = due.revoke && made;
      await endHolders(tx, grantKey, ending, now, "expired");
      for (const q of requests.filter((x) => ending.includes(x.id))) {
        const detail = revoke
          ? "expired: the last holder, the access is revoked"
          : remaining.length > 0
            ? `expired: still held by ${remaining.map((h) => h.holder).join(", ")}`
            : "expired before it was carried out: nothing to revoke";
        await tx
          .updateTable("provisioning_requests")
          .set({ state: "expired", updated_at: now, detail })
          .where("id", "=", q.id)
          .execute();
        await audit(tx, factsOf(q), "expired", "ok", "expired", {
          revoke,
          remaining: remaining.map((h) => h.holder),
        });
        await provisioningEvent(
          tx,
          subjects,
          "provisioning.expired",
          eventData(q, "expired", detail),
          sourceId,
          now,
        );
      }
      if (!revoke) return { expired: ending.length, revokes: 0 };
      const first = requests.find((q) => ending.includes(q.id))!;
      const revokeId = `expiry:${first.id}`;
      const row = await tx
        .insertInto("provisioning_requests")
        .values({
          id: revokeId,
          source_id: sourceId,
          verb: "revoke",
          kind: first.kind,
          target: JSON.stringify(first.target),
          grant_key: grantKey,
          change: JSON.stringify(first.change),
          requester: EXPIRY_REQUESTER,
          reason: `expiry of ${ending.join(", ")}`,
          duration_seconds: null,
          expires_at: null,
          state: "accepted",
          idempotency_key: revokeId,
          detail: "revoke: the last holder expired",
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await audit(tx, factsOf(row), "accepted", "ok", "accepted", { grantKey, expired: ending });
      await provisioningEvent(
        tx,
        subjects,
        "provisioning.requested",
        eventData(row, "accepted", row.detail),
        sourceId,
        now,
      );
      return { expired: ending.length, revokes: 1 };
    });
    sweep.expired += r.expired;
    sweep.revokes += r.revokes;
  }
  return sweep;
}
