// What the freshness tests check after the incremental sync caught up: a source's rows against a fresh full
// sync's, and the change events since a point against the difference between the states then and now.
import { isDeepStrictEqual } from "node:util";
import { sql } from "kysely";
import { expect } from "vitest";
import { ACCESS_ROLE, startAwsSim, type AwsSim, type Preset } from "@grantline/aws-sim";
import type { Db } from "@grantline/db";
import { waitFor } from "@grantline/testing";
import {
  createPipeline,
  QUICK_FEEDS,
  readEvents,
  simSource,
  syncAndWait,
  type Pipeline,
} from "./pipeline-harness.ts";
import type { SimMutation } from "./random-mutation.ts";

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
  return diffStates(await rowsOf(db, truthSourceId), await rowsOf(db, sourceId)).filter(
    (d) => !(d.expected === undefined && AWS_MANAGED_POLICY_KEY.test(d.key)),
  );
}

/**
 * An AWS-managed policy that nothing attaches any more is kept by design (docs/sync-model.md: GAAD no longer
 * lists it, yet AWS still has it), by consecutive full runs as by refreshes; a fresh full sync never saw it.
 */
const AWS_MANAGED_POLICY_KEY =
  /^(resource\/iam_policy\/arn:aws[a-z-]*:iam::aws:policy\/|entitlement\/iam_policy:arn:aws[a-z-]*:iam::aws:policy\/.*:attached$)/;

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
  timeoutMs = 60_000,
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
    if (rows.length === 0) throw new Error("no feed");
    // Thrown, not returned: waitFor's timeout then says which feeds lag.
    const lagging = rows.filter((r) => {
      const at = r.committed_at ? new Date(r.committed_at).getTime() : 0;
      return at <= (after instanceof Date ? after.getTime() : (after.get(r.feed_id) ?? Infinity));
    });
    if (lagging.length > 0)
      throw new Error(
        `lagging: ${lagging.map((r) => `${r.feed_id} (committed ${r.committed_at ? new Date(r.committed_at).toISOString() : "never"})`).join(", ")}`,
      );
    return new Map(rows.map((r) => [r.feed_id, new Date(r.committed_at!).getTime()]));
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
      const waiting = await sql<{ kind: string; n: number }>`
        SELECT intent->>'kind' AS kind, count(*)::int AS n FROM refresh_queue
         WHERE source_id = ${sourceId} AND done_at IS NULL GROUP BY 1 ORDER BY 1`.execute(p.db);
      const running = await p.db
        .selectFrom("runs")
        .select(["id", "kind"])
        .where("source_id", "=", sourceId)
        .where("status", "=", "running")
        .where("kind", "<>", "feed")
        .execute();
      // The derivations the refresh runs left owed (the scheduler's deriver) are part of what they changed.
      const owed = await p.db
        .selectFrom("sources")
        .select("derive_run")
        .where("id", "=", sourceId)
        .where("derive_run", "is not", null)
        .executeTakeFirst();
      if (waiting.rows.length > 0 || running.length > 0 || owed)
        throw new Error(
          `refreshes not done: ${waiting.rows.map((r) => `${r.n} × ${r.kind}`).join(", ") || "none"}; ` +
            `active runs: ${running.map((r) => `${r.kind} ${r.id}`).join(", ") || "none"}` +
            (owed ? `; derivations owed after run ${owed.derive_run}` : ""),
        );
      return true;
    },
    {
      timeoutMs,
      intervalMs: 200,
      message: message("refresh queue drained, no refresh run active, no derivation owed"),
    },
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

/** The source synced incrementally and the one a fresh full sync fills for comparison. */
export const LIVE = "live";
export const TRUTH = "truth";

export interface FreshnessSetup {
  sim: AwsSim;
  p: Pipeline;
  /** Longest CloudTrail delivery delay aws-sim draws. */
  maxDeliveryMs: number;
}

/**
 * aws-sim (a tiny organization unless told, CloudTrail events delivered after a per-event random delay, so they surface out
 * of order and some only after the window that should have seen them) and the four services with two sources
 * over it: `live` with fast feeds and a small overlap, `truth` with feeds off.
 */
export async function startFreshness(
  o: { preset?: Preset; maxDeliveryMs?: number; env?: Record<string, string> } = {},
): Promise<FreshnessSetup> {
  const maxDeliveryMs = o.maxDeliveryMs ?? 8_000;
  const sim = await startAwsSim({
    preset: o.preset ?? "tiny",
    seed: 21,
    cloudTrailDelay: { kind: "uniform", minMs: 0, maxMs: maxDeliveryMs },
  });
  const iam = { enabled: true, crossAccount: true, roleName: ACCESS_ROLE, onlyAttachedPolicies: true };
  const p = await createPipeline({
    sources: {
      sources: [
        simSource(LIVE, sim, {
          iam,
          feeds: QUICK_FEEDS,
        }),
        simSource(TRUTH, sim, { iam }),
      ],
    },
    ...(o.env ? { env: o.env } : {}),
  });
  p.startAll();
  return { sim, p, maxDeliveryMs };
}

/** The first full sync of `live` and the state it leaves; waits until the source's feeds exist. */
export async function firstFullSync(p: Pipeline): Promise<{ runId: string; before: KeyedState }> {
  const runId = await syncAndWait(p, LIVE);
  const before = await keyedState(p.db, LIVE);
  await waitFor(
    async () =>
      (await p.db.selectFrom("feed_cursors").select("feed_id").where("source_id", "=", LIVE).execute())
        .length > 0,
    { timeoutMs: 60_000, message: "feeds of the live source" },
  );
  return { runId, before };
}

/** Waits for any feed of `live` to commit a window after `mark`. */
export async function feedCycle(p: Pipeline, mark: Date, what: string): Promise<void> {
  await waitFor(
    async () =>
      (
        await p.db
          .selectFrom("feed_cursors")
          .select("feed_id")
          .where("source_id", "=", LIVE)
          .where("committed_at", ">", mark)
          .execute()
      ).length > 0,
    { timeoutMs: 60_000, message: `a feed cycle after ${what}` },
  );
}

function report(title: string, seed: number, diffs: KeyDifference[], applied: SimMutation[]): string {
  const lines = diffs
    .slice(0, 40)
    .map(
      (d) =>
        `  ${d.key}: expected ${JSON.stringify(d.expected)}, got ${JSON.stringify(d.actual)}` +
        ` — suspects: ${suspects(d.key, applied).join(", ") || "?"}`,
    );
  const kinds = new Set(diffs.flatMap((d) => suspects(d.key, applied).map((s) => s.split(" ")[1])));
  return [
    `${title} (seed ${seed}; ${diffs.length} difference(s)); mutation kinds that did not converge: ${[...kinds].join(", ") || "unknown"}`,
    ...lines,
  ].join("\n");
}

/**
 * Must show 2's two checks, once the feeds caught up with everything up to `settledAt`: (a) `live`'s rows equal
 * those of a fresh full sync (`truth`); (b) `live`'s change events since its first run, folded per subject
 * (latest sequence wins) onto the state that run left, give exactly the state now, and no subject has events
 * that neither changed nor was named by a mutation.
 */
export async function expectConverged(
  p: Pipeline,
  first: { runId: string; before: KeyedState },
  mutations: { seed: number; applied: SimMutation[] },
  settledAt: Date,
): Promise<void> {
  await waitForCatchUp(p, LIVE, settledAt);
  await syncAndWait(p, TRUTH);
  const { seed, applied } = mutations;
  const rows = await diffSources(p.db, TRUTH, LIVE);
  expect(rows, report("rows differ from a fresh full sync", seed, rows, applied)).toEqual([]);

  const after = await keyedState(p.db, LIVE);
  const events = await changeEventsOf(p, LIVE, first.runId);
  // Not vacuous: the changes reached `live` through the feeds, as events, by targeted refresh runs.
  const runs = await p.db
    .selectFrom("runs")
    .select(["kind", sql<number>`count(*)::int`.as("n")])
    .where("source_id", "=", LIVE)
    .groupBy("kind")
    .execute();
  const byKind = Object.fromEntries(runs.map((r) => [r.kind, r.n]));
  console.info(
    `freshness (seed ${seed}): ${applied.length} mutations, ${events.length} change events, runs ${JSON.stringify(byKind)}`,
  );
  expect(events.length, `seed ${seed}: no change event since the first run`).toBeGreaterThan(0);
  expect(byKind.refresh ?? 0, `seed ${seed}: no targeted refresh run`).toBeGreaterThan(0);
  // Converging through a full run would hide the targeted refreshes: the events that fell back to one are named.
  const fellBack = await sql<{ event_name: string | null; n: number }>`
    SELECT event_name, count(*)::int AS n FROM refresh_queue
     WHERE source_id = ${LIVE} AND intent->>'kind' = 'source' GROUP BY 1 ORDER BY 1`.execute(p.db);
  expect(
    fellBack.rows.map((r) => `${r.event_name ?? "?"} × ${r.n}`),
    `seed ${seed}: events whose refresh fell back to a full run of the source`,
  ).toEqual([]);
  expect(byKind.full, `seed ${seed}: full runs of ${LIVE} beyond the first`).toBe(1);
  const folded = diffStates(after, foldEvents(first.before, events));
  expect(folded, report("events are not the difference", seed, folded, applied)).toEqual([]);
  const changed = new Set(diffStates(first.before, after).map((d) => d.key));
  const spurious = [...new Set(events.map((e) => e.subject))].filter(
    (s) => !changed.has(s) && suspects(s, applied).length === 0,
  );
  expect(spurious, `seed ${seed}: events for subjects nothing changed`).toEqual([]);
}
