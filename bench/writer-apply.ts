// Writer micro-benchmark: `applyBatch` (the writer's whole transaction: task lock, upsert with change detection,
// the batch's events in one compact outbox row, child tasks, task settle, run-completion check) against a plain
// `INSERT … SELECT FROM unnest(...)` of the same rows into a table shaped like `grants`, in the same Postgres.
// Reported as a throughput ratio.
//
//   node --import tsx bench/writer-apply.ts [--batches 200] [--rows 500] [--database-url postgres://…]
//
// Creates and drops its own database `gl_bench_writer_<rand>`.
import { randomBytes, randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { sql } from "kysely";
import pg from "pg";
import { createSubjects, type Grant, type ResultBatch } from "@grantline/contracts";
import { applyBatch, createDb, ensureDatabase, migrateToLatest } from "@grantline/db";

export interface WriterBenchResult {
  batches: number;
  rowsPerBatch: number;
  applyMs: number;
  plainMs: number;
  applyRowsPerSec: number;
  plainRowsPerSec: number;
  /** applyRowsPerSec / plainRowsPerSec (target ≥ 0.5). */
  ratio: number;
  /**
   * Attribution: the plain unnest insert plus, in the same transaction, one outbox row per grant carrying a
   * CloudEvent payload of the size applyBatch writes (`grant.created` on an initial load) — the outbox design
   * before the compact outbox, whose rows per event capped any writer at this.
   */
  plainWithEventsMs: number;
  /** plainWithEventsMs / applyMs: applyBatch's speed relative to that insert-plus-events. */
  plainWithEventsRatio: number;
  /** plainMs / plainWithEventsMs: the best ratio a writer with one outbox row per event could reach. */
  eventsBoundRatio: number;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** `n` grants shaped like ListAccountAssignments output (ids, attrs and sizes as the mapper produces them). */
function grantsFor(batch: number, n: number): Grant[] {
  const out: Grant[] = [];
  for (let i = 0; i < n; i++) {
    const account = String(100000000000 + batch).padStart(12, "0");
    const ps = `arn:aws:sso:::permissionSet/ssoins-72230a1b2c3d4e5f/ps-${(batch * 7919 + i).toString(16).padStart(16, "0")}`;
    const user = `${randomBytes(5).toString("hex")}-${randomUUID()}`;
    const ent = `${account}|${ps}`;
    out.push({
      id: `${ent}:sso_user:${user}`,
      entitlementId: ent,
      principalType: "sso_user",
      principalId: user,
      expandable: false,
      attrs: { accountId: account, permissionSetArn: ps },
    });
  }
  return out;
}

type Db = ReturnType<typeof createDb>;
type Executor = Parameters<ReturnType<typeof sql>["execute"]>[0];

/** A run with one pending task per batch, plus one that stays pending so the run never completes mid-benchmark. */
async function seedRun(
  db: Db,
  sourceId: string,
  batches: number,
): Promise<{ runId: string; taskIds: string[] }> {
  const runId = randomUUID();
  await db.insertInto("sources").values({ id: sourceId, last_completed_run: null }).execute();
  await db
    .insertInto("runs")
    .values({ id: runId, source_id: sourceId, stats: "{}", warnings: "[]", finished_at: null, error: null })
    .execute();
  const taskIds = Array.from({ length: batches }, (_, b) => `bench-task-${b}`);
  await db
    .insertInto("tasks")
    .values(
      [...taskIds, "bench-task-open"].map((id) => ({
        id,
        run_id: runId,
        source_id: sourceId,
        service: "sso-admin",
        operation: "ListAccountAssignments",
        params: "{}",
        page_token: null,
        account_id: null,
        scope: null,
        parent_id: null,
        done_at: null,
        error: null,
      })),
    )
    .execute();
  return { runId, taskIds };
}

async function timed(f: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

/** The plain `INSERT … SELECT FROM unnest(...)` of one batch's grants into a table shaped like `grants`. */
async function insertPlain(
  ex: Executor,
  table: "plain_grants" | "plain_grants2",
  gs: Grant[],
  at: { sourceId: string; runId: string; b: number },
): Promise<void> {
  const { sourceId, runId, b } = at;
  await sql`
    INSERT INTO ${sql.table(table)} (source_id, id, entitlement_id, principal_type, principal_id, expandable, attrs, scope, first_seen_run, last_seen_run)
    SELECT ${sourceId}, id, entitlement_id, principal_type, principal_id, expandable, attrs, ${`sso-assign:bench-${b}`}, ${runId}::uuid, ${runId}::uuid
      FROM unnest(${gs.map((g) => g.id)}::text[], ${gs.map((g) => g.entitlementId)}::text[], ${gs.map((g) => g.principalType)}::text[],
                  ${gs.map((g) => g.principalId)}::text[], ${gs.map((g) => g.expandable)}::boolean[], ${gs.map((g) => JSON.stringify(g.attrs))}::jsonb[])
        AS t(id, entitlement_id, principal_type, principal_id, expandable, attrs)`.execute(ex);
}

/** One `grant.created` outbox row per grant, of the size applyBatch writes on an initial load. */
function grantCreatedEvents(
  gs: Grant[],
  sourceId: string,
  runId: string,
): Array<{ id: string; payload: string }> {
  return gs.map((g) => {
    const id = randomUUID();
    return {
      id: `evt:${id}`,
      payload: JSON.stringify({
        specversion: "1.0",
        id,
        source: `grantline/${sourceId}`,
        type: "dev.grantline.grant.created",
        time: new Date().toISOString(),
        subject: `grant/${g.id}`,
        datacontenttype: "application/json",
        grantlinerunid: runId,
        grantlineinitialload: true,
        data: {
          grantId: g.id,
          entitlementId: g.entitlementId,
          principalType: g.principalType,
          principalId: g.principalId,
          attrs: g.attrs,
        },
      }),
    };
  });
}

function summarise(
  batches: number,
  rowsPerBatch: number,
  ms: { apply: number; plain: number; events: number },
) {
  const rows = batches * rowsPerBatch;
  return {
    batches,
    rowsPerBatch,
    applyMs: Math.round(ms.apply),
    plainMs: Math.round(ms.plain),
    applyRowsPerSec: Math.round((rows / ms.apply) * 1000),
    plainRowsPerSec: Math.round((rows / ms.plain) * 1000),
    ratio: Math.round((ms.plain / ms.apply) * 100) / 100,
    plainWithEventsMs: Math.round(ms.events),
    plainWithEventsRatio: Math.round((ms.events / ms.apply) * 100) / 100,
    eventsBoundRatio: Math.round((ms.plain / ms.events) * 100) / 100,
  };
}

export async function runWriterBench(o: {
  databaseUrl: string;
  batches?: number;
  rowsPerBatch?: number;
  log?: (s: string) => void;
}): Promise<WriterBenchResult> {
  const batches = o.batches ?? 200;
  const rowsPerBatch = o.rowsPerBatch ?? 500;
  const log = o.log ?? ((s: string) => console.log(s));
  const name = `gl_bench_writer_${randomBytes(4).toString("hex")}`;
  const url = withDatabase(o.databaseUrl, name);
  await ensureDatabase(url);
  const db = createDb({ url, poolSize: 2 });
  try {
    const m = await migrateToLatest(db);
    if (m.error) throw m.error instanceof Error ? m.error : new Error(String(m.error));
    const subjects = createSubjects("glbenchwriter");
    const sourceId = "bench";
    const { runId, taskIds } = await seedRun(db, sourceId, batches);
    const data = Array.from({ length: batches }, (_, b) => grantsFor(b, rowsPerBatch));
    await sql`CREATE TABLE plain_grants (LIKE grants INCLUDING ALL)`.execute(db);

    await sql`CREATE TABLE plain_grants2 (LIKE grants INCLUDING ALL)`.execute(db);
    await sql`CREATE TABLE plain_outbox (LIKE outbox INCLUDING ALL)`.execute(db);
    // Interleaved, batch by batch: the three writers see tables of the same size at each step, and a machine
    // shared with other work (load that comes and goes over a minute) slows all three alike instead of
    // whichever phase it happened to overlap.
    let apply = 0;
    let plain = 0;
    let events = 0;
    for (let b = 0; b < batches; b++) {
      const gs = data[b]!;
      const batch: ResultBatch = {
        v: 1,
        taskId: taskIds[b]!,
        runId,
        sourceId,
        scope: `sso-assign:bench-${b}`,
        resources: [],
        entitlements: [],
        grants: gs,
        children: [],
        scopeComplete: false,
        keepScopes: [],
        warnings: [],
        stats: { awsCalls: 1, throttled: 0 },
      };
      apply += await timed(async () => {
        const r = await applyBatch(db, subjects, batch);
        if (!r.applied) throw new Error(`batch ${b} was not applied`);
      });
      plain += await timed(() => insertPlain(db, "plain_grants", gs, { sourceId, runId, b }));
      events += await timed(async () => {
        const evs = grantCreatedEvents(gs, sourceId, runId);
        await db.transaction().execute(async (tx) => {
          await insertPlain(tx, "plain_grants2", gs, { sourceId, runId, b });
          await sql`
            INSERT INTO plain_outbox (id, subject, payload)
            SELECT id, ${subjects.event(sourceId, "grant.created")}, payload
              FROM unnest(${evs.map((e) => e.id)}::text[], ${evs.map((e) => e.payload)}::text[]) AS t(id, payload)`.execute(
            tx,
          );
        });
      });
    }
    const res: WriterBenchResult = summarise(batches, rowsPerBatch, { apply, plain, events });
    log(
      `writer apply: ${batches} batches × ${rowsPerBatch} grants — applyBatch ${res.applyMs} ms (${res.applyRowsPerSec} rows/s), ` +
        `plain unnest insert ${res.plainMs} ms (${res.plainRowsPerSec} rows/s), ratio ${res.ratio} (target ≥ 0.5); ` +
        `plain insert + one same-size outbox row per event ${res.plainWithEventsMs} ms (÷ plain: ${res.eventsBoundRatio}, ` +
        `the bound of an outbox row per event; applyBatch reaches ${res.plainWithEventsRatio} of it)`,
    );
    return res;
  } finally {
    await db.destroy();
    const admin = new pg.Client({ connectionString: withDatabase(o.databaseUrl, "postgres") });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      batches: { type: "string", default: "200" },
      rows: { type: "string", default: "500" },
      "database-url": {
        type: "string",
        default: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
      },
    },
  });
  runWriterBench({
    databaseUrl: values["database-url"],
    batches: Number(values.batches),
    rowsPerBatch: Number(values.rows),
  }).then(
    (r) => console.log(JSON.stringify(r)),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
