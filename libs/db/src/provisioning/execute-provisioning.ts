import {
  deterministicId,
  ProvisioningCall,
  type ProvisioningDone,
  type ProvisioningExec,
  type RefreshIntent,
  type Subjects,
} from "@grantline/contracts";
import { sql } from "kysely";
import type { Db } from "../create-db.ts";
import { enqueueRefreshes } from "../refresh-queue.ts";
import { applyProvisioningOutcome, callsOf } from "./pending-provisioning.ts";
import {
  audit,
  factsOf,
  grantPresent,
  lockGrantKey,
  type RequestRow,
  type Tx,
} from "./provisioning-records.ts";

/** Hands an execution to the fetcher (a JetStream publish with msgID `prov:<callId>:<attempt>`). */
export type PublishExec = (exec: ProvisioningExec) => Promise<void>;

/** The id of one AWS change: its action, grant and the requests it carries out. */
export function callIdOf(call: ProvisioningCall): string {
  return deterministicId("provisioning-call", call.action, call.grantKey, [...call.requestIds].sort());
}

/** The re-read that shows whether a change was made: the full sync's own re-read of the pair or group. */
export function confirmingRefresh(change: ProvisioningCall["change"]): RefreshIntent {
  switch (change.kind) {
    case "account-assignment":
      return {
        kind: "assignments",
        instanceArn: change.instanceArn,
        accountId: change.accountId,
        permissionSetArn: change.permissionSetArn,
      };
    case "group-membership":
      return { kind: "group-members", identityStoreId: change.identityStoreId, groupId: change.groupId };
    case "iam-group-membership":
      return { kind: "iam-group", accountId: change.accountId, groupName: change.groupName };
  }
}

async function publishCalls(
  tx: Tx,
  subjects: Subjects,
  rows: RequestRow[],
  publish: PublishExec,
  now: Date,
): Promise<number> {
  let published = 0;
  for (const call of await callsOf(tx, rows)) {
    const attempt =
      1 + Math.max(...rows.filter((r) => call.requestIds.includes(r.id)).map((r) => r.exec_attempt));
    // Published before the state changes, inside the transaction: a commit that fails leaves the attempt number
    // as it was, so the next tick publishes the same message id and JetStream drops the repeat.
    await publish({ callId: callIdOf(call), attempt, call });
    await tx
      .updateTable("provisioning_requests")
      .set({ exec_attempt: attempt, exec_at: now })
      .where("id", "in", call.requestIds)
      .execute();
    await applyProvisioningOutcome(tx, subjects, {
      requestIds: call.requestIds,
      outcome: "executing",
      detail: attempt > 1 ? `execution attempt ${attempt}` : undefined,
      now,
      step: attempt,
    });
    published++;
  }
  return published;
}

/**
 * Hands the AWS changes accepted requests wait for to the fetcher, oldest first: each published, then its
 * requests `executing` (with event and audit row), in one transaction per round. Rows are claimed with
 * `FOR UPDATE SKIP LOCKED`, so a second leader (a hand-over) skips them rather than publishing them again.
 */
export async function startProvisioningCalls(
  db: Db,
  subjects: Subjects,
  publish: PublishExec,
  o: { now?: Date; limit?: number; inFlightMs?: number } = {},
): Promise<number> {
  const now = o.now ?? new Date();
  return db.transaction().execute(async (tx) => {
    const rows = await tx
      .selectFrom("provisioning_requests")
      .selectAll()
      .where("state", "=", "accepted")
      .orderBy("created_at")
      .orderBy("id")
      .limit(o.limit ?? 100)
      .forUpdate()
      .skipLocked()
      .execute();
    const ready = await oneCallPerGrant(tx, rows, o.inFlightMs ?? 1_200_000);
    return ready.length === 0 ? 0 : publishCalls(tx, subjects, ready, publish, now);
  });
}

/**
 * The rows whose call may start now: calls of one grant run one at a time, in request order, so a revoke never
 * races the create before it (AWS serializes assignment operations on one pair with ConflictException, but not
 * membership writes). A grant is busy while one of its executions has no answer yet — for at most `inFlightMs`,
 * so a lost answer holds nothing forever.
 */
async function oneCallPerGrant(tx: Tx, rows: RequestRow[], inFlightMs: number): Promise<RequestRow[]> {
  if (rows.length === 0) return [];
  const keys = [...new Set(rows.map((r) => r.grant_key))];
  const busy = await tx
    .selectFrom("provisioning_requests")
    .select("grant_key")
    .distinct()
    .where("grant_key", "in", keys)
    .where("exec_attempt", ">", 0)
    .where("aws_done_at", "is", null)
    .where("state", "!=", "failed")
    .where("exec_at", ">", sql<Date>`now() - ${inFlightMs}::int * interval '1 millisecond'`)
    .execute();
  const taken = new Set(busy.map((b) => b.grant_key));
  const firstVerb = new Map<string, string>();
  return rows.filter((r) => {
    if (taken.has(r.grant_key)) return false;
    const verb = firstVerb.get(r.grant_key);
    if (verb === undefined) firstVerb.set(r.grant_key, r.verb);
    return verb === undefined || verb === r.verb;
  });
}

export interface StalledProvisioning {
  republished: number;
  failed: number;
}

/**
 * Executions whose answer never came (a message lost with a crashed publisher, dead-lettered, or a fetcher gone
 * for longer than its redelivery): published again after `stallMs` under a new attempt, at most `maxAttempts`
 * times, then failed with the reason. `stallMs` must exceed the longest execution (slot wait, conflict retries,
 * status polling), or a slow but healthy execution would be doubled — harmless (AWS changes are idempotent) but
 * wasteful.
 */
export async function republishStalledProvisioning(
  db: Db,
  subjects: Subjects,
  publish: PublishExec,
  o: { stallMs: number; maxAttempts: number; now?: Date },
): Promise<StalledProvisioning> {
  const now = o.now ?? new Date();
  return db.transaction().execute(async (tx) => {
    const rows = await tx
      .selectFrom("provisioning_requests")
      .selectAll()
      .where("state", "=", "executing")
      .where("aws_done_at", "is", null)
      .where("exec_at", "<", new Date(now.getTime() - o.stallMs))
      .orderBy("exec_at")
      .orderBy("id")
      .limit(100)
      .forUpdate()
      .skipLocked()
      .execute();
    const spent = rows.filter((r) => r.exec_attempt >= o.maxAttempts);
    if (spent.length > 0)
      await applyProvisioningOutcome(tx, subjects, {
        requestIds: spent.map((r) => r.id),
        outcome: "failed",
        detail: `no answer from the fetcher after ${o.maxAttempts} executions of ${Math.round(o.stallMs / 1000)} s each`,
        now,
      });
    const again = rows.filter((r) => r.exec_attempt < o.maxAttempts);
    const republished = again.length === 0 ? 0 : await publishCalls(tx, subjects, again, publish, now);
    return { republished, failed: spent.length };
  });
}

/**
 * Records a fetcher's final answer. A failure fails its requests with AWS's reason verbatim. A success is not
 * reported yet: the requests wait (`aws_done_at`) for the targeted re-read queued here, in the same transaction,
 * to show the change (`confirmProvisioning`). An answer for requests that moved on (expired, revoked, a
 * duplicate of an answer already recorded) changes nothing.
 */
export async function recordProvisioningDone(
  db: Db,
  subjects: Subjects,
  done: ProvisioningDone,
  now = new Date(),
): Promise<number> {
  const awsCall = { action: done.action, attempt: done.attempt, ms: done.ms, ...done.outcome };
  return db.transaction().execute(async (tx) => {
    // Requests that moved on meanwhile (expired, revoked) keep their state; the answer still frees their grant
    // for the next call (startProvisioningCalls).
    await tx
      .updateTable("provisioning_requests")
      .set({ aws_done_at: sql<Date>`now()` })
      .where("id", "in", done.requestIds)
      .where("aws_done_at", "is", null)
      .where("state", "not in", ["accepted", "executing"])
      .execute();
    if (done.outcome.outcome === "failed")
      return applyProvisioningOutcome(tx, subjects, {
        requestIds: done.requestIds,
        outcome: "failed",
        awsCall,
        detail: done.outcome.reason,
        now,
        step: done.attempt,
      });
    const rows = await tx
      .selectFrom("provisioning_requests")
      .selectAll()
      .where("id", "in", done.requestIds)
      .where("state", "in", ["accepted", "executing"])
      .where("aws_done_at", "is", null)
      .orderBy("id")
      .forUpdate()
      .execute();
    for (const r of rows) {
      await tx
        .updateTable("provisioning_requests")
        // The database's clock, as the runs' `started_at` it is compared with.
        .set({ state: "executing", aws_done_at: sql<Date>`now()`, updated_at: now })
        .where("id", "=", r.id)
        .execute();
      await audit(tx, factsOf(r), "aws-call", "succeeded", "executing", { awsCall });
      await enqueueRefreshes(tx, r.source_id, [
        {
          intent: confirmingRefresh(ProvisioningCall.shape.change.parse(r.change)),
          requestedBy: `provisioning:${r.id}`,
        },
      ]);
    }
    return rows.length;
  });
}

export interface ConfirmSweep {
  confirmed: number;
  failed: number;
  /** Re-reads that did not show the change yet and were queued again. */
  reread: number;
}

/**
 * Confirms requests whose AWS change is done once the synced rows show it: a granted access's live grant row,
 * or a revoked access's absence after a re-read that started after AWS answered (the absence before it proves
 * nothing). Rows come only from reads of AWS, through the writer, so the `grant.created` / `grant.revoked` event
 * is in the outbox before `provisioning.confirmed`. A re-read that finished without showing the change is queued
 * again (AWS is eventually consistent) up to `maxReads` times, then the request fails.
 */
export async function confirmProvisioning(
  db: Db,
  subjects: Subjects,
  o: { maxReads: number; now?: Date },
): Promise<ConfirmSweep> {
  const sweep: ConfirmSweep = { confirmed: 0, failed: 0, reread: 0 };
  const waiting = await db
    .selectFrom("provisioning_requests")
    .select(["id", "grant_key"])
    .where("state", "=", "executing")
    .where("aws_done_at", "is not", null)
    .orderBy("aws_done_at")
    .limit(200)
    .execute();
  for (const w of waiting) {
    const now = o.now ?? new Date();
    const step = await db.transaction().execute(async (tx) => {
      await lockGrantKey(tx, w.grant_key);
      const r = await tx
        .selectFrom("provisioning_requests")
        .selectAll()
        .where("id", "=", w.id)
        .where("state", "=", "executing")
        .where("aws_done_at", "is not", null)
        .forUpdate()
        .executeTakeFirst();
      if (!r?.aws_done_at) return null;
      const grantId = r.grant_key.slice(r.source_id.length + 1);
      const shown = (await grantPresent(tx, r.source_id, grantId)) === (r.verb === "grant");
      const reread = await rereadSince(tx, r.source_id, new Date(r.aws_done_at));
      if (shown && (r.verb === "grant" || reread)) {
        await applyProvisioningOutcome(tx, subjects, {
          requestIds: [r.id],
          outcome: "confirmed",
          detail: `confirmed by a re-read of ${r.verb === "grant" ? "the new access" : "the access's absence"}`,
          now,
        });
        return "confirmed" as const;
      }
      if (!reread) return null;
      if (r.confirm_reads + 1 >= o.maxReads) {
        await applyProvisioningOutcome(tx, subjects, {
          requestIds: [r.id],
          outcome: "failed",
          detail: `AWS reported the change made, but ${o.maxReads} re-reads do not show it`,
          now,
        });
        return "failed" as const;
      }
      await tx
        .updateTable("provisioning_requests")
        .set({ confirm_reads: r.confirm_reads + 1, aws_done_at: sql<Date>`now()`, updated_at: now })
        .where("id", "=", r.id)
        .execute();
      await enqueueRefreshes(tx, r.source_id, [
        {
          intent: confirmingRefresh(ProvisioningCall.shape.change.parse(r.change)),
          requestedBy: `provisioning:${r.id}`,
        },
      ]);
      return "reread" as const;
    });
    if (step) sweep[step]++;
  }
  return sweep;
}

/** Whether a refresh or full run of the source that started after `since` has finished successfully. */
async function rereadSince(tx: Tx, sourceId: string, since: Date): Promise<boolean> {
  const r = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM runs
     WHERE source_id = ${sourceId} AND kind IN ('refresh', 'full') AND status = 'succeeded'
       AND started_at >= ${since}`.execute(tx);
  return (r.rows[0]?.n ?? 0) > 0;
}

/** A request's state, for a reply waiting for it to end. */
export async function provisioningState(
  db: Db,
  id: string,
): Promise<{ state: string; detail: string | null } | undefined> {
  return db
    .selectFrom("provisioning_requests")
    .select(["state", "detail"])
    .where("id", "=", id)
    .executeTakeFirst();
}
