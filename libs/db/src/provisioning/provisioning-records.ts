import {
  cloudEventType,
  deterministicId,
  ProvisioningTarget,
  type EventType,
  type GrantHolder,
  type ProvisioningEventData,
  type ProvisioningRequestSummary,
  type ProvisioningState,
  type Subjects,
} from "@grantline/contracts";
import type { Holder } from "@grantline/model";
import { sql, type Selectable, type Transaction } from "kysely";
import type { Db } from "../create-db.ts";
import type { Database, ProvisioningRequestsTable } from "../database.ts";
import { insertEvents, type OutboxRow } from "../outbox-rows.ts";

type Tx = Transaction<Database>;
type RequestRow = Selectable<ProvisioningRequestsTable>;

/** Advisory lock class of provisioning ("glpr"): every change to one grant's holders is made under its key's lock. */
const LOCK_CLASS = 0x676c7072;

/** Serializes everything that reads and changes one grant's holders (requests, revokes, expiries). */
export async function lockGrantKey(tx: Tx, grantKey: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${LOCK_CLASS}, hashtext(${grantKey}))`.execute(tx);
}

/** Takes the grant key's lock unless another transaction holds it (then false: that one is handling it). */
export async function tryLockGrantKey(tx: Tx, grantKey: string): Promise<boolean> {
  const r = await sql<{ ok: boolean }>`
    SELECT pg_try_advisory_xact_lock(${LOCK_CLASS}, hashtext(${grantKey})) AS ok`.execute(tx);
  return r.rows[0]?.ok === true;
}

/** Serializes requests carrying the same client id (the second sees the first's row). */
export async function lockRequestId(tx: Tx, id: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${LOCK_CLASS + 1}, hashtext(${id}))`.execute(tx);
}

/** Every holder of a grant, ended ones included (the holder logic of libs/model reads `endedAt`). */
export async function loadHolders(tx: Tx | Db, grantKey: string): Promise<Holder[]> {
  const rows = await tx
    .selectFrom("grant_holders")
    .select(["holder", "standing", "expires_at", "ended_at"])
    .where("grant_key", "=", grantKey)
    .orderBy("created_at")
    .orderBy("holder")
    .execute();
  return rows.map((r) => ({
    holder: r.holder,
    standing: r.standing,
    expiresAt: r.expires_at === null ? null : new Date(r.expires_at).getTime(),
    endedAt: r.ended_at === null ? null : new Date(r.ended_at).getTime(),
  }));
}

/** The active holders as a reply lists them. */
export function activeHolders(holders: Holder[]): GrantHolder[] {
  return holders
    .filter((h) => h.endedAt === null)
    .map((h) => ({
      holder: h.holder,
      standing: h.standing,
      expiresAt: h.expiresAt === null ? null : new Date(h.expiresAt).toISOString(),
    }));
}

/** Ends holds (never one already ended: an expiry or a revoke fires once). */
export async function endHolders(
  tx: Tx,
  grantKey: string,
  holders: string[],
  now: Date,
  reason: string,
): Promise<void> {
  if (holders.length === 0) return;
  await tx
    .updateTable("grant_holders")
    .set({ ended_at: now, end_reason: reason })
    .where("grant_key", "=", grantKey)
    .where("holder", "in", holders)
    .where("ended_at", "is", null)
    .execute();
}

/** The access's live grant row in the synced data (its attrs), if any. */
export async function liveGrant(
  tx: Tx | Db,
  sourceId: string,
  grantId: string,
): Promise<{ attrs: Record<string, unknown> } | undefined> {
  return tx
    .selectFrom("grants")
    .select("attrs")
    .where("source_id", "=", sourceId)
    .where("id", "=", grantId)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
}

/** Whether the access is in the synced data. */
export async function grantPresent(tx: Tx | Db, sourceId: string, grantId: string): Promise<boolean> {
  return (await liveGrant(tx, sourceId, grantId)) !== undefined;
}

/** The request fields every audit row and event repeats. */
export interface RequestFacts {
  id: string;
  sourceId: string;
  verb: "grant" | "revoke";
  requester: string;
  reason: string | null;
}

/** Appends to `provisioning_audit` (append-only). `action`: requested, refused, accepted, expired, aws-call, … */
export async function audit(
  tx: Tx | Db,
  r: RequestFacts,
  action: string,
  outcome: string,
  state: ProvisioningState | null,
  detail: Record<string, unknown> = {},
): Promise<void> {
  await tx
    .insertInto("provisioning_audit")
    .values({
      request_id: r.id,
      source_id: r.sourceId,
      verb: r.verb,
      requester: r.requester,
      reason: r.reason,
      action,
      outcome,
      state,
      detail: JSON.stringify(detail),
    })
    .execute();
}

/**
 * A `provisioning.*` event in the outbox. Its id is a hash of request, type and `step` (a request reaches each
 * type once, except a retried execution: the caller numbers it), so a transaction retried after a crash emits
 * the same event, not a second one.
 */
export async function provisioningEvent(
  tx: Tx,
  subjects: Subjects,
  type: Extract<EventType, `provisioning.${string}`>,
  data: ProvisioningEventData,
  sourceId: string,
  now: Date,
  step = 0,
): Promise<void> {
  const id = deterministicId("provisioning", data.requestId, type, step);
  const row: OutboxRow = {
    id: `evt:${id}`,
    subject: subjects.event(sourceId, type),
    payload: JSON.stringify({
      specversion: "1.0",
      id,
      source: `grantline/${sourceId}`,
      type: cloudEventType(type),
      time: now.toISOString(),
      subject: `provisioning/${data.requestId}`,
      datacontenttype: "application/json",
      grantlinerunid: data.requestId,
      grantlineinitialload: false,
      data,
    }),
    headers: null,
    event: type,
  };
  await insertEvents(tx, [row]);
}

/** The event data of a stored request. */
export function eventData(
  r: RequestRow,
  state: ProvisioningState,
  detail: string | null,
): ProvisioningEventData {
  return {
    requestId: r.id,
    verb: r.verb,
    target: ProvisioningTarget.parse(r.target),
    grantKey: r.grant_key,
    requester: r.requester,
    reason: r.reason,
    state,
    expiresAt: r.expires_at === null ? null : new Date(r.expires_at).toISOString(),
    detail,
  };
}

export const factsOf = (r: RequestRow): RequestFacts => ({
  id: r.id,
  sourceId: r.source_id,
  verb: r.verb,
  requester: r.requester,
  reason: r.reason,
});

/** A stored request as `grantline grants` lists it. */
export function summaryOf(r: RequestRow, holders: Holder[]): ProvisioningRequestSummary {
  return {
    id: r.id,
    sourceId: r.source_id,
    verb: r.verb,
    target: ProvisioningTarget.parse(r.target),
    grantKey: r.grant_key,
    requester: r.requester,
    reason: r.reason,
    state: r.state as ProvisioningState,
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
    expiresAt: r.expires_at === null ? null : new Date(r.expires_at).toISOString(),
    holders: activeHolders(holders),
  };
}

export type { RequestRow, Tx };
