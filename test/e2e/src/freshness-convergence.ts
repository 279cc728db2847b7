// What the freshness tests check after the incremental sync caught up: a source's rows against a fresh full
// sync's, and the change events since a point against the difference between the states then and now.
import { isDeepStrictEqual } from "node:util";
import { sql } from "kysely";
import type { Db } from "@grantline/db";
import { waitFor } from "@grantline/testing";
import { readEvents, type Pipeline } from "./pipeline-harness.ts";

/** Subject (`resource/<type>/<id>`, `grant/<id>`) → what a consumer holds for it. */
export type KeyedState = Map<string, Record<string, unknown>>;

/**
 * The live resources and grants of a source, keyed by event subject, holding the fields their events carry —
 * the state a consumer folding the events must arrive at. Every grant counts, derived ones too: their events
 * are on the same subject.
 */
export async function keyedState(db: Db, sourceId: string): Promise<KeyedState> {
  const resources = await db
    .selectFrom("resources")
    .select(["type", "id", "name", "parent_type", "parent_id", "attrs"])
    .where("source_id", "=", sourceId)
    .where("deleted_at", "is", null)
    .execute();
  const grants = await db
    .selectFrom("grants")
    .select(["id", "entitlement_id", "principal_type", "principal_id", "attrs"])
    .where("source_id", "=", sourceId)
    .where("revoked_at", "is", null)
    .execute();
  const s: KeyedState = new Map();
  for (const r of resources)
    s.set(`resource/${r.type}/${r.id}`, {
      name: r.name,
      parentType: r.parent_type,
      parentId: r.parent_id,
      attrs: r.attrs,
    });
  for (const g of grants)
    s.set(`grant/${g.id}`, {
      entitlementId: g.entitlement_id,
      principalType: g.principal_type,
      principalId: g.principal_id,
      attrs: g.attrs,
    });
  return s;
}

/** Every live row of a source in a comparable form (ids, contents; never run ids or timestamps). */
async function rowsOf(db: Db, sourceId: string): Promise<KeyedState> {
  const s = await keyedState(db, sourceId);
  const ents = await db
    .selectFrom("entitlements")
    .select(["id", "resource_type", "resource_id", "slug", "name", "attrs"])
    .where("source_id", "=", sourceId)
    .where("deleted_at", "is", null)
    .execute();
  for (const e of ents) {
    const { id, ...rest } = e;
    s.set(`entitlement/${id}`, rest);
  }
  return s;
}

export interface KeyDifference {
  key: string;
  expected: Record<string, unknown> | undefined;
  actual: Record<string, unknown> | undefined;
}

/** The keys whose value differs (present on one side only, or different content), sorted. */
export function diffStates(expected: KeyedState, actual: KeyedState): KeyDifference[] {
  const keys = new Set([...expected.keys(), ...actual.keys()]);
  return [...keys]
    .sort()
    .filter((k) => !isDeepStrictEqual(expected.get(k), actual.get(k)))
    .map((k) => ({ key: k, expected: expected.get(k), actual: actual.get(k) }));
}

/** Rows of `sourceId` against those of `truthSourceId` (a fresh full sync of the same organization). */
export async function diffSources(db: Db, truthSourceId: string, sourceId: string): Promise<KeyDifference[]> {
  return diffStates(await rowsOf(db, truthSourceId), await rowsOf(db, sourceId));
}

export interface SequencedEvent {
  id: string;
  source: string;
  type: string;
  subject: string;
  sequence?: string;
  grantlinerunid: string;
  data: Record<string, unknown>;
}

/** The change events (grant and resource) of `sourceId` on the events stream, except those of run `exceptRun`. */
export async function changeEventsOf(
  p: Pipeline,
  sourceId: string,
  exceptRun: string,
): Promise<SequencedEvent[]> {
  const all = (await readEvents(p)) as unknown as SequencedEvent[];
  return all.filter(
    (e) =>
      e.source === `grantline/${sourceId}` &&
      e.grantlinerunid !== exceptRun &&
      /^dev\.grantline\.(grant|resource)\./.test(e.type),
  );
}

/** The data fields of a change event that describe the key's state (what `keyedState` holds). */
function stateOf(e: SequencedEvent): Record<string, unknown> {
  const d = e.data;
  return e.subject.startsWith("grant/")
    ? {
        entitlementId: d.entitlementId,
        principalType: d.principalType,
        principalId: d.principalId,
        attrs: d.attrs,
      }
    : { name: d.name, parentType: d.parentType, parentId: d.parentId, attrs: d.attrs };
}

/**
 * Folds change events into `start` as a consumer following docs/events.md would: per subject only the event
 * with the greatest `sequence` counts (the others are older); created/updated set the key to the event's
 * state, revoked/deleted remove it. Throws on a change event without `sequence`.
 */
export function foldEvents(start: KeyedState, events: SequencedEvent[]): KeyedState {
  const latest = new Map<string, SequencedEvent>();
  for (const e of events) {
    if (!/\.(grant|resource)\./.test(e.type)) continue;
    if (e.sequence === undefined) throw new Error(`event ${e.id} (${e.type} ${e.subject}) has no sequence`);
    const held = latest.get(e.subject);
    if (!held || (held.sequence ?? "") < e.sequence) latest.set(e.subject, e);
  }
  const out: KeyedState = new Map(start);
  for (const [subject, e] of latest) {
    if (/\.(revoked|deleted)$/.test(e.type)) out.delete(subject);
    else out.set(subject, stateOf(e));
  }
  return out;
}

/**
 * Waits until the incremental sync of `sourceId` has caught up with everything that happened up to
 * `settledAt` (the last mutation plus the longest CloudTrail delivery delay): every feed committed a window
 * that began after `settledAt` (the window committing after a commit later than `settledAt` began after it),
 * no targeted refresh waits or runs, and every event row is published.
 */
export async function waitForCatchUp(
  p: Pipeline,
  sourceId: string,
  settledAt: Date,
  timeoutMs = 120_000,
): Promise<void> {
  const message = (what: string) => `${sourceId}: ${what}`;
  const committedAfter = async (after: Map<string, number> | Date) => {
    // Feeds of accounts the source still syncs: a removed or suspended account's feed may stop for good.
    const rows = await sql<{ feed_id: string; committed_at: Date | null }>`
      SELECT f.feed_id, f.committed_at FROM feed_cursors f
       WHERE f.source_id = ${sourceId}
         AND (f.event_source <> 'iam.amazonaws.com' OR EXISTS (
               SELECT 1 FROM resources r WHERE r.source_id = f.source_id AND r.type = 'iam_account'
                  AND r.id = f.account_id AND r.deleted_at IS NULL))`
      .execute(p.db)
      .then((r) => r.rows);
    if (rows.length === 0) return null;
    const done = rows.every((r) => {
      const at = r.committed_at ? new Date(r.committed_at).getTime() : 0;
      return at > (after instanceof Date ? after.getTime() : (after.get(r.feed_id) ?? Infinity));
    });
    return done ? new Map(rows.map((r) => [r.feed_id, new Date(r.committed_at!).getTime()])) : null;
  };
  const first = await waitFor(() => committedAfter(settledAt), {
    timeoutMs,
    intervalMs: 200,
    message: message(`every feed commits after ${settledAt.toISOString()}`),
  });
  await waitFor(() => committedAfter(first), {
    timeoutMs,
    intervalMs: 200,
    message: message("every feed commits one more window"),
  });
  await waitFor(
    async () => {
      const waiting = await p.db
        .selectFrom("refresh_queue")
        .select(sql<number>`count(*)::int`.as("n"))
        .where("source_id", "=", sourceId)
        .where("done_at", "is", null)
        .executeTakeFirstOrThrow();
      const running = await p.db
        .selectFrom("runs")
        .select(sql<number>`count(*)::int`.as("n"))
        .where("source_id", "=", sourceId)
        .where("status", "=", "running")
        .where("kind", "<>", "feed")
        .executeTakeFirstOrThrow();
      return waiting.n === 0 && running.n === 0;
    },
    { timeoutMs, intervalMs: 200, message: message("refresh queue drained and no refresh run active") },
  );
  await waitFor(
    async () => {
      const r = await p.db
        .selectFrom("outbox")
        .select(sql<number>`count(*)::int`.as("n"))
        .where("published_at", "is", null)
        .executeTakeFirstOrThrow();
      return r.n === 0;
    },
    { timeoutMs, intervalMs: 200, message: message("outbox published") },
  );
}

/** The mutations (by index) whose arguments name something in `key`: who to suspect for a difference. */
export function suspects<M extends { kind: string; args: Record<string, unknown> }>(
  key: string,
  mutations: M[],
): string[] {
  return mutations.flatMap((m, i) =>
    Object.values(m.args).some((v) => typeof v === "string" && v.length >= 6 && key.includes(v))
      ? [`#${i} ${m.kind}`]
      : [],
  );
}
