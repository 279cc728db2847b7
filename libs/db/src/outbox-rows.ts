import {
  cloudEventType,
  SEQUENCE_DIGITS,
  deterministicId,
  type EventType,
  type GrantlineEvent,
  type PageRequest,
  type Subjects,
} from "@grantline/contracts";
import { context, propagation, trace, type SpanContext } from "@opentelemetry/api";
import { sql, type RawBuilder, type Transaction } from "kysely";
import type { Database } from "./database.ts";
import { countEvents, noEvents, type EventCounts } from "./event-counts.ts";

export interface OutboxRow {
  id: string;
  subject: string;
  payload: string;
  /** JSON object of NATS headers to publish with (the W3C trace context of the work that wrote the row). */
  headers: string | null;
  /** The event's type, for an event row (not stored: what `insertEvents` counts). */
  event?: EventType;
}

let lastSpan: SpanContext | undefined;
let lastHeaders: string | null = null;

/**
 * The active trace context as the outbox's headers JSON, so a page request published later by the outbox
 * (possibly by another replica) continues the trace of the batch or sync that created it. Memoised per span:
 * one batch writes thousands of rows under the same one.
 */
export function outboxTraceHeaders(): string | null {
  const span = trace.getSpanContext(context.active());
  if (span === undefined) return null;
  if (span !== lastSpan) {
    const carrier: Record<string, string> = {};
    propagation.inject(context.active(), carrier);
    lastSpan = span;
    lastHeaders = Object.keys(carrier).length > 0 ? JSON.stringify(carrier) : null;
  }
  return lastHeaders;
}

export interface EventContext {
  subjects: Subjects;
  sourceId: string;
  runId: string;
  initial: boolean;
  now: Date;
  /**
   * A refresh run's end: derivations read every live row of the source, not only those this run stamped (a
   * refresh sees a few objects; the rest are as the last runs left them, and no source-wide sweep follows).
   */
  liveRows?: boolean;
}

/**
 * The rows a run-end derivation reads, as a condition on `alias`: those the run stamped (a full run: the rest are
 * about to be swept), or every live row for a refresh run (`liveRows`; callers also test deleted_at/revoked_at).
 */
export function seenByRun(ctx: EventContext, alias: string): RawBuilder<unknown> {
  return ctx.liveRows ? sql`TRUE` : sql`${sql.ref(`${alias}.last_seen_run`)} = ${ctx.runId}::uuid`;
}

/**
 * An outbox row carrying one CloudEvent. Its id — and the event's — is a hash of run, type and key, so the
 * same change seen again in the same run (a redelivered batch) is one event, not two. The `sequence` attribute
 * (the per-key version) is not known yet: `insertRows` adds it from the `event_versions` sequence when the row
 * is inserted, which callers do after the upsert or sweep that locked the row the event describes.
 */
export function eventRow(
  c: EventContext,
  type: EventType,
  key: string,
  data: Record<string, unknown>,
): OutboxRow {
  const e = eventJson({ ...c, time: c.now.toISOString() }, type, key, data);
  return {
    id: `evt:${e.id}`,
    subject: c.subjects.event(c.sourceId, type),
    payload: e.json,
    headers: outboxTraceHeaders(),
    event: type,
  };
}

/** What every event of one run's transaction shares: the envelope's attributes other than type, key and data. */
export interface EnvelopeContext {
  sourceId: string;
  runId: string;
  initial: boolean;
  /** ISO 8601. */
  time: string;
}

/**
 * An event's id and its envelope as JSON text, without `sequence` (see `withSequence`). Shared by `eventRow` and
 * the compact outbox's expansion (compact-events.ts), so an event reads the same byte for byte whichever way it
 * was stored.
 */
export function eventJson(
  c: EnvelopeContext,
  type: EventType,
  key: string,
  data: Record<string, unknown>,
): { id: string; json: string } {
  const id = deterministicId("event", c.runId, type, key);
  const event: Omit<GrantlineEvent, "sequence"> = {
    specversion: "1.0",
    id,
    source: `grantline/${c.sourceId}`,
    type: cloudEventType(type),
    time: c.time,
    subject: key,
    datacontenttype: "application/json",
    grantlinerunid: c.runId,
    grantlineinitialload: c.initial,
    data,
  };
  return { id, json: JSON.stringify(event) };
}

/** The envelope JSON with its `sequence` (already zero-padded) as the last attribute, as `insertRows` adds it. */
export function withSequence(json: string, sequence: string): string {
  return `${json.slice(0, -1)},"sequence":"${sequence}"}`;
}

/** The outbox row that publishes a page request; `attempt` > 0 for a re-publish, which must not be deduped. */
export function requestRow(subjects: Subjects, r: PageRequest, attempt = 0): OutboxRow {
  return {
    id: attempt === 0 ? `req:${r.taskId}` : `req:${r.taskId}:${attempt}`,
    subject: subjects.pageRequest(r.sourceId, r.service),
    payload: JSON.stringify(r),
    headers: outboxTraceHeaders(),
  };
}

/**
 * Inserts outbox rows (a repeat id is skipped). Four arrays through `unnest` rather than a multi-row VALUES list:
 * one batch can carry thousands of events, and four parameters in all beat four per row (the writer
 * benchmark's outbox share).
 */
export async function insertOutbox(tx: Transaction<Database>, rows: OutboxRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const r = await insertRows(rows, sql``).execute(tx);
  return Number(r.numAffectedRows ?? 0);
}

/**
 * Inserts event rows and counts, by type, those actually inserted: an event already in the outbox (the same
 * change seen twice in one run has one id) was emitted once and is counted once.
 */
export async function insertEvents(tx: Transaction<Database>, rows: OutboxRow[]): Promise<EventCounts> {
  if (rows.length === 0) return noEvents();
  const r = await insertRows(rows, sql`RETURNING id`).execute(tx);
  const inserted = new Set(r.rows.map((x) => x.id));
  return countEvents(rows.filter((x) => inserted.has(x.id)).map((x) => x.event));
}

/**
 * An event row's payload gets its `sequence` here, in SQL, rather than in `eventRow`: the number must be taken
 * after the row the event describes was locked by this transaction's upsert or sweep. A second transaction
 * changing the same grant or resource waits for that lock, so it takes its number after this one commits —
 * per key, sequence order is commit order. (A number taken by a row that conflicts, or by a transaction that
 * rolls back, is a gap: consumers compare, never count.) The payload is the envelope's JSON text, an object
 * with `data` in it, so the attribute goes before its closing brace.
 */
function insertRows(rows: OutboxRow[], returning: RawBuilder<unknown>): RawBuilder<{ id: string }> {
  return sql<{ id: string }>`
    INSERT INTO outbox (id, subject, payload, headers)
    SELECT id, subject,
           CASE WHEN is_event
                THEN left(payload, -1) || ',"sequence":"' || lpad(nextval('event_versions')::text, ${SEQUENCE_DIGITS}, '0') || '"}'
                ELSE payload END,
           headers
      FROM unnest(${rows.map((x) => x.id)}::text[], ${rows.map((x) => x.subject)}::text[],
                  ${rows.map((x) => x.payload)}::text[], ${rows.map((x) => x.headers)}::jsonb[],
                  ${rows.map((x) => x.event !== undefined)}::boolean[])
        AS t(id, subject, payload, headers, is_event)
    ON CONFLICT (id) DO NOTHING ${returning}`;
}
