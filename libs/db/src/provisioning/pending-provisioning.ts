import { ProvisioningCall, type ProvisioningState, type Subjects } from "@grantline/contracts";
import type { Db } from "../create-db.ts";
import {
  audit,
  endHolders,
  eventData,
  factsOf,
  lockGrantKey,
  provisioningEvent,
  type RequestRow,
  type Tx,
} from "./provisioning-records.ts";

/**
 * The AWS changes accepted requests wait for, oldest first: the seam the executor hooks. Grant requests of one
 * grant that are all still `accepted` share one call; a revoke is its own. A group membership's delete gets the
 * membership id from the synced grant when the request did not know it.
 */
export async function pendingProvisioning(db: Db, limit = 100): Promise<ProvisioningCall[]> {
  const rows = await db
    .selectFrom("provisioning_requests")
    .selectAll()
    .where("state", "=", "accepted")
    .orderBy("created_at")
    .orderBy("id")
    .limit(limit)
    .execute();
  return callsOf(db, rows);
}

/** Requests grouped into the AWS calls that carry them out: one per verb and grant, in the rows' order. */
export async function callsOf(db: Db | Tx, rows: RequestRow[]): Promise<ProvisioningCall[]> {
  const calls = new Map<string, ProvisioningCall>();
  for (const r of rows) {
    const k = `${r.verb} ${r.grant_key}`;
    const known = calls.get(k);
    if (known) {
      known.requestIds.push(r.id);
      continue;
    }
    calls.set(k, {
      sourceId: r.source_id,
      grantKey: r.grant_key,
      requestIds: [r.id],
      action: r.verb === "grant" ? "create" : "delete",
      change: await withMembershipId(db, r),
    });
  }
  return [...calls.values()].map((c) => ProvisioningCall.parse(c));
}

async function withMembershipId(db: Db | Tx, r: RequestRow): Promise<ProvisioningCall["change"]> {
  const change = ProvisioningCall.shape.change.parse(r.change);
  if (change.kind !== "group-membership" || change.membershipId !== null) return change;
  const g = await db
    .selectFrom("grants")
    .select("attrs")
    .where("source_id", "=", r.source_id)
    .where("id", "=", r.grant_key.slice(r.source_id.length + 1))
    .executeTakeFirst();
  const id = g?.attrs.membershipId;
  return { ...change, membershipId: typeof id === "string" ? id : null };
}

export interface ProvisioningOutcome {
  requestIds: string[];
  /** `executing`: the AWS call is about to be made; `confirmed`: it succeeded; `failed`: it did not. */
  outcome: "executing" | "confirmed" | "failed";
  /** The AWS call and its answer (operation, status, request id, error), audited as given. */
  awsCall?: Record<string, unknown>;
  detail?: string;
  now?: Date;
  /** Which execution this is (1, 2, …): numbers the event ids of a re-published execution. @default 0 */
  step?: number;
}

const FROM: Record<ProvisioningOutcome["outcome"], ProvisioningState[]> = {
  executing: ["accepted"],
  confirmed: ["accepted", "executing"],
  failed: ["accepted", "executing"],
};

/**
 * Records what the executor did for requests `pendingProvisioning` returned: their new state, an audit row per
 * request with the AWS call's outcome, and the `provisioning.executing|confirmed|failed` event. A failed grant
 * request's hold ends (it never held the access). Requests no longer in a state the outcome follows (expired or
 * revoked meanwhile) are left as they are; returns how many moved.
 */
export async function recordProvisioningOutcome(
  db: Db,
  subjects: Subjects,
  o: ProvisioningOutcome,
): Promise<number> {
  return db.transaction().execute((tx) => applyProvisioningOutcome(tx, subjects, o));
}

/** `recordProvisioningOutcome` in the caller's transaction. */
export async function applyProvisioningOutcome(
  tx: Tx,
  subjects: Subjects,
  o: ProvisioningOutcome,
): Promise<number> {
  const now = o.now ?? new Date();
  const rows = await tx
    .selectFrom("provisioning_requests")
    .selectAll()
    .where("id", "in", o.requestIds.length ? o.requestIds : [""])
    .where("state", "in", FROM[o.outcome])
    .orderBy("id")
    .forUpdate()
    .execute();
  for (const r of rows) {
    await lockGrantKey(tx, r.grant_key);
    const state: ProvisioningState =
      o.outcome === "executing"
        ? "executing"
        : o.outcome === "failed"
          ? "failed"
          : r.verb === "grant"
            ? "active"
            : "done";
    const detail = o.detail ?? null;
    await tx
      .updateTable("provisioning_requests")
      .set({ state, updated_at: now, ...(detail === null ? {} : { detail }) })
      .where("id", "=", r.id)
      .execute();
    if (state === "failed" && r.verb === "grant") await endHolders(tx, r.grant_key, [r.id], now, "failed");
    await audit(tx, factsOf(r), o.awsCall ? "aws-call" : o.outcome, o.outcome, state, {
      ...(o.awsCall ? { awsCall: o.awsCall } : {}),
      ...(detail === null ? {} : { detail }),
    });
    await provisioningEvent(
      tx,
      subjects,
      `provisioning.${o.outcome}`,
      eventData(r, state, detail),
      r.source_id,
      now,
      o.step ?? 0,
    );
  }
  return rows.length;
}
