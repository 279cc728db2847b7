import { randomUUID } from "node:crypto";
import { SEQUENCE_DIGITS, type EventType } from "@grantline/contracts";
import { sql, type Kysely, type RawBuilder } from "kysely";
import type { Database } from "./database.ts";
import {
  eventJson,
  outboxTraceHeaders,
  withSequence,
  type EnvelopeContext,
  type EventContext,
} from "./outbox-rows.ts";

/**
 * A compact outbox row's id starts with this. Such a row carries every change event of one upsert statement
 * (a batch's grants, or its resources) as one payload, written by that statement itself: the events never travel
 * to the writer and back, and the outbox gets one row and one index entry per batch instead of one per event —
 * the writer benchmark's largest cost. The publisher expands it (`expandOutboxRow`) into the very events,
 * ids and subjects one row per event would have published.
 */
const COMPACT_ID_PREFIX = "evs:";

/** `grant.created`: sequence, grant id, entitlement id, principal type, principal id, attrs. */
type GrantTuple = [string, string, string, string, string, Record<string, unknown>];
/**
 * `resource.created` or (`updated` true) `resource.updated`: sequence, updated, type, id, name, parent type,
 * parent id, attrs.
 */
type ResourceTuple = [
  string,
  boolean,
  string,
  string,
  string,
  string | null,
  string | null,
  Record<string, unknown>,
];

/** A compact row's payload, as `compactOutbox` writes it. Written and read only by this module. */
interface CompactPayload extends EnvelopeContext {
  v: 1;
  /** The NATS subject of each event type the row holds. */
  subjects: Partial<Record<EventType, string>>;
  grants?: GrantTuple[];
  resources?: ResourceTuple[];
}

const COMPACT_TYPES = {
  grants: ["grant.created"],
  resources: ["resource.created", "resource.updated"],
} satisfies Record<string, EventType[]>;

/**
 * A data-modifying CTE body writing one compact outbox row for the changed rows of CTE `from`, or none when it
 * is empty. `from` must carry `seq`, a `nextval('event_versions')` taken from the rows an upsert RETURNed — after
 * the upsert locked each one, so per key the sequence is commit order (see `insertRows` in outbox-rows.ts).
 * `tuple` is the `json_build_array` of one event, in the order of `GrantTuple` or `ResourceTuple`.
 */
export function compactOutbox(
  ctx: EventContext,
  kind: keyof typeof COMPACT_TYPES,
  from: string,
  tuple: RawBuilder<unknown>,
): RawBuilder<unknown> {
  const subjects = Object.fromEntries(
    COMPACT_TYPES[kind].map((t) => [t, ctx.subjects.event(ctx.sourceId, t)]),
  );
  return sql`
    INSERT INTO outbox (id, subject, payload, headers)
    SELECT ${`${COMPACT_ID_PREFIX}${randomUUID()}`}, ${ctx.subjects.event(ctx.sourceId, "*")},
           json_build_object('v', 1, 'sourceId', ${ctx.sourceId}::text, 'runId', ${ctx.runId}::text,
                             'initial', ${ctx.initial}::boolean, 'time', ${ctx.now.toISOString()}::text,
                             'subjects', ${JSON.stringify(subjects)}::json,
                             ${kind}::text, json_agg(${tuple} ORDER BY ${sql.ref(`${from}.seq`)}))::text,
           ${outboxTraceHeaders()}::jsonb
      FROM ${sql.table(from)} HAVING count(*) > 0`;
}

/** An event's sequence as the payload carries it: the `event_versions` number, zero-padded. */
export function paddedSequence(seq: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`lpad(${seq}::text, ${SEQUENCE_DIGITS}, '0')`;
}

/** An outbox row as the publisher reads it, and as it publishes: `id` is the msgID. */
export interface PublishableRow {
  id: string;
  subject: string;
  payload: string;
  headers: Record<string, string> | null;
}

/** The messages one outbox row publishes: itself, or a compact row's events in sequence order. */
export function expandOutboxRow(r: PublishableRow): PublishableRow[] {
  if (!r.id.startsWith(COMPACT_ID_PREFIX)) return [r];
  const p = JSON.parse(r.payload) as CompactPayload;
  if (p.v !== 1) throw new Error(`compact outbox row ${r.id}: unknown payload version ${String(p.v)}`);
  const event = (type: EventType, key: string, data: Record<string, unknown>, seq: string) => {
    const subject = p.subjects[type];
    if (subject === undefined) throw new Error(`compact outbox row ${r.id}: no subject for ${type}`);
    const e = eventJson(p, type, key, data);
    return { id: `evt:${e.id}`, subject, payload: withSequence(e.json, seq), headers: r.headers };
  };
  const out: PublishableRow[] = [];
  for (const [seq, grantId, entitlementId, principalType, principalId, attrs] of p.grants ?? [])
    out.push(
      event(
        "grant.created",
        `grant/${grantId}`,
        { grantId, entitlementId, principalType, principalId, attrs },
        seq,
      ),
    );
  for (const [seq, updated, resourceType, resourceId, name, parentType, parentId, attrs] of p.resources ?? [])
    out.push(
      event(
        updated ? "resource.updated" : "resource.created",
        `resource/${resourceType}/${resourceId}`,
        { resourceType, resourceId, name, parentType, parentId, attrs },
        seq,
      ),
    );
  return out;
}

/**
 * The messages the outbox holds (published or not) whose subject starts with `prefix` — e.g. a source's events,
 * `<prefix>.events.<sourceId>.` — compact rows expanded, in the order the publisher would send them. For tests
 * and tools that look at the events a change produced.
 */
export async function outboxMessages(db: Kysely<Database>, prefix: string): Promise<PublishableRow[]> {
  const rows = await db
    .selectFrom("outbox")
    .select(["id", "subject", "payload", "headers"])
    // A compact row's own subject names only its source (`….events.<sourceId>.*`): all are read and expanded.
    .where(sql<boolean>`starts_with(subject, ${prefix}) OR starts_with(id, ${COMPACT_ID_PREFIX})`)
    .orderBy("created_at")
    .execute();
  return rows.flatMap(expandOutboxRow).filter((m) => m.subject.startsWith(prefix));
}
