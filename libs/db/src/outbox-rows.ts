import {
  cloudEventType,
  deterministicId,
  type EventType,
  type GrantlineEvent,
  type PageRequest,
  type Subjects,
} from "@grantline/contracts";
import type { Transaction } from "kysely";
import type { Database } from "./database.ts";

export interface OutboxRow {
  id: string;
  subject: string;
  payload: string;
}

export interface EventContext {
  subjects: Subjects;
  sourceId: string;
  runId: string;
  initial: boolean;
  now: Date;
}

/**
 * An outbox row carrying one CloudEvent. Its id — and the event's — is a hash of run, type and key, so the
 * same change seen again in the same run (a redelivered batch) is one event, not two.
 */
export function eventRow(
  c: EventContext,
  type: EventType,
  key: string,
  data: Record<string, unknown>,
): OutboxRow {
  const id = deterministicId("event", c.runId, type, key);
  const event: GrantlineEvent = {
    specversion: "1.0",
    id,
    source: `grantline/${c.sourceId}`,
    type: cloudEventType(type),
    time: c.now.toISOString(),
    subject: key,
    datacontenttype: "application/json",
    grantlinerunid: c.runId,
    grantlineinitialload: c.initial,
    data,
  };
  return { id: `evt:${id}`, subject: c.subjects.event(c.sourceId, type), payload: JSON.stringify(event) };
}

/** The outbox row that publishes a page request; `attempt` > 0 for a re-publish, which must not be deduped. */
export function requestRow(subjects: Subjects, r: PageRequest, attempt = 0): OutboxRow {
  return {
    id: attempt === 0 ? `req:${r.taskId}` : `req:${r.taskId}:${attempt}`,
    subject: subjects.pageRequest(r.sourceId, r.service),
    payload: JSON.stringify(r),
  };
}

const CHUNK = 1000;

export async function insertOutbox(tx: Transaction<Database>, rows: OutboxRow[]): Promise<number> {
  let n = 0;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const r = await tx
      .insertInto("outbox")
      .values(rows.slice(i, i + CHUNK))
      .onConflict((oc) => oc.column("id").doNothing())
      .executeTakeFirst();
    n += Number(r.numInsertedOrUpdatedRows ?? 0);
  }
  return n;
}

/**
 * Inserts tasks (idempotently: the id is deterministic) and an outbox row for each one that is new. Returns
 * how many were new.
 */
export async function enqueueTasks(
  tx: Transaction<Database>,
  subjects: Subjects,
  requests: PageRequest[],
  parentId: string | null,
): Promise<number> {
  let created = 0;
  for (let i = 0; i < requests.length; i += CHUNK) {
    const chunk = requests.slice(i, i + CHUNK);
    const inserted = await tx
      .insertInto("tasks")
      .values(
        chunk.map((r) => ({
          id: r.taskId,
          run_id: r.runId,
          source_id: r.sourceId,
          service: r.service,
          operation: r.operation,
          params: JSON.stringify(r.params),
          page_token: r.pageToken,
          account_id: r.accountId,
          scope: r.scope,
          page_index: r.pageIndex,
          parent_id: parentId,
        })),
      )
      .onConflict((oc) => oc.column("id").doNothing())
      .returning("id")
      .execute();
    const fresh = new Set(inserted.map((r) => r.id));
    await insertOutbox(
      tx,
      chunk.filter((r) => fresh.has(r.taskId)).map((r) => requestRow(subjects, r)),
    );
    created += fresh.size;
  }
  return created;
}
