import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createSubjects,
  deterministicId,
  GrantlineEvent,
  pageRequest,
  type Grant,
  type Resource,
  type ResultBatch,
} from "@grantline/contracts";
import {
  createDb,
  expandOutboxRow,
  migrateToLatest,
  startOutboxPublisher,
  startRun,
  type Db,
  type PublishableRow,
} from "@grantline/db";
import { createOutboxSink } from "@grantline/nats";
import { createTestDatabase, testInfra, uniqueName, waitFor, type TestDatabase } from "@grantline/testing";
import type { CrashWork } from "./compact-outbox-crash.fixture.ts";

const FIXTURE = fileURLToPath(new URL("./compact-outbox-crash.fixture.ts", import.meta.url));
const SOURCE = "crashy";
const BATCHES = 2;
const RESOURCES = 40;
const GRANTS = 150;
const EVENTS = BATCHES * (RESOURCES + GRANTS);
// Inside the first batch's grant row (its resource row holds the first 40 events).
const PUBLISHED_BEFORE_KILL = 100;

let tdb: TestDatabase;
let db: Db;
let nc: NatsConnection;
let jsm: JetStreamManager;
const prefix = uniqueName("co");
const subjects = createSubjects(prefix);
const stream = `${prefix.toUpperCase()}_EVENTS`;

beforeAll(async () => {
  tdb = await createTestDatabase(testInfra().databaseUrl);
  db = createDb({ url: tdb.url, poolSize: 2 });
  const m = await migrateToLatest(db);
  if (m.error) throw m.error instanceof Error ? m.error : new Error(String(m.error));
  nc = await connect({ servers: testInfra().natsUrl });
  jsm = await jetstreamManager(nc);
  // The events stream's duplicate window (2 min, as ensure-topology.ts creates it) is what drops a republish.
  await jsm.streams.add({
    name: stream,
    subjects: [`${prefix}.events.>`],
    storage: "memory",
    duplicate_window: 120_000 * 1_000_000,
  });
});
afterAll(async () => {
  await jsm?.streams.delete(stream).catch(() => undefined);
  await nc?.close();
  await db?.destroy();
  await tdb?.drop();
});

/**
 * A run with one root task per batch, and one more so the run stays running (no run-end events). Its own outbox
 * rows (run.started, the page requests) are marked published: this test is about the batches' compact rows.
 */
async function seedRun(runId: string): Promise<string[]> {
  const roots = Array.from({ length: BATCHES + 1 }, (_, b) =>
    pageRequest({
      runId,
      sourceId: SOURCE,
      service: "diag",
      operation: "Pages",
      params: { pages: 1, root: b },
      pageToken: null,
      accountId: null,
      scope: `s${b}`,
      pageIndex: 0,
    }),
  );
  await startRun(db, { sourceId: SOURCE, runId, roots, subjects });
  await db.updateTable("outbox").set({ published_at: new Date() }).execute();
  return roots.slice(0, BATCHES).map((r) => r.taskId);
}

function batchOf(runId: string, taskId: string, b: number): ResultBatch {
  const resources: Resource[] = Array.from({ length: RESOURCES }, (_, i) => ({
    type: "sso_user",
    id: `u-${b}-${i}`,
    parentType: null,
    parentId: null,
    name: `user ${b}/${i}`,
    attrs: { email: `u${b}.${i}@example.com` },
  }));
  const grants: Grant[] = Array.from({ length: GRANTS }, (_, i) => ({
    id: `group:g${b}:member|u-${b}-${i}`,
    entitlementId: `group:g${b}:member`,
    principalType: "sso_user",
    principalId: `u-${b}-${i % RESOURCES}`,
    expandable: false,
    attrs: { n: i },
  }));
  return {
    v: 1,
    taskId,
    runId,
    sourceId: SOURCE,
    scope: `s${b}`,
    resources,
    entitlements: [],
    grants,
    children: [],
    scopeComplete: false,
    keepScopes: [],
    warnings: [],
    stats: { awsCalls: 1, throttled: 0 },
  };
}

/** Runs the fixture with `work`, waits for it to print `line`, and SIGKILLs it. */
async function killAt(work: Omit<CrashWork, "databaseUrl" | "natsUrl" | "subjectPrefix">, line: string) {
  const child = spawn(process.execPath, ["--import", "tsx", FIXTURE], { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_c, s) => resolve(s)));
  const full: CrashWork = {
    ...work,
    databaseUrl: tdb.url,
    natsUrl: testInfra().natsUrl,
    subjectPrefix: prefix,
  };
  child.stdin.end(JSON.stringify(full));
  await waitFor(() => out.includes(line), { timeoutMs: 30_000, message: `the fixture to print ${line}` });
  child.kill("SIGKILL");
  expect(await exited).toBe("SIGKILL");
}

async function streamMessages(): Promise<Array<{ msgId: string; subject: string; payload: string }>> {
  const info = await jsm.streams.info(stream);
  const out: Array<{ msgId: string; subject: string; payload: string }> = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    if (m) out.push({ msgId: m.header.get("Nats-Msg-Id"), subject: m.subject, payload: m.string() });
  }
  return out;
}

async function unpublishedRows() {
  return db
    .selectFrom("outbox")
    .select(["id", "subject", "payload", "headers"])
    .where("published_at", "is", null)
    .orderBy("created_at")
    .execute();
}

describe("compact outbox under SIGKILL", () => {
  it("killed between commit and publish, then part-way through a compact row's events: after restart every event is in the stream exactly once", async () => {
    const runId = randomUUID();
    const taskIds = await seedRun(runId);
    const batches = taskIds.map((t, b) => batchOf(runId, t, b));

    // 1. The writer commits the batches (their compact rows) and dies before its publisher runs.
    await killAt({ mode: "apply", batches }, "committed");
    const committed = await unpublishedRows();
    expect(committed.map((r) => r.id.slice(0, 4))).toEqual(["evs:", "evs:", "evs:", "evs:"]);
    expect((await jsm.streams.info(stream)).state.messages).toBe(0);
    const expected: PublishableRow[] = committed.flatMap(expandOutboxRow);
    expect(expected).toHaveLength(EVENTS);

    // 2. A publisher dies after JetStream acked the first 100 events, in the middle of a compact row.
    await killAt({ mode: "publish", publishLimit: PUBLISHED_BEFORE_KILL }, "partial");
    expect((await jsm.streams.info(stream)).state.messages).toBe(PUBLISHED_BEFORE_KILL);
    expect(await unpublishedRows()).toHaveLength(committed.length);

    // 3. A publisher restarts and publishes every row again; JetStream drops the 100 repeats by msgID.
    const publisher = startOutboxPublisher({ db, pollMs: 60_000, sink: createOutboxSink(jetstream(nc)) });
    try {
      await waitFor(async () => (await unpublishedRows()).length === 0, { timeoutMs: 30_000 });
    } finally {
      await publisher.stop();
    }

    const seen = await streamMessages();
    expect(seen).toHaveLength(EVENTS);
    // In the publisher's order (rows by commit, a row's events by sequence), each event once, its msgID its id.
    expect(seen.map((m) => m.msgId)).toEqual(expected.map((e) => e.id));
    expect(new Set(seen.map((m) => m.msgId)).size).toBe(EVENTS);
    const events = seen.map((m) => ({ m, e: GrantlineEvent.parse(JSON.parse(m.payload)) }));
    for (const { m, e } of events) {
      expect(m.msgId).toBe(`evt:${e.id}`);
      expect(m.subject).toBe(subjects.event(SOURCE, e.type.replace("dev.grantline.", "")));
      expect(e.id).toBe(deterministicId("event", runId, e.type.replace("dev.grantline.", ""), e.subject));
    }
    const keys = (type: string) =>
      events
        .filter(({ e }) => e.type === `dev.grantline.${type}`)
        .map(({ e }) => e.subject)
        .sort();
    expect(keys("resource.created")).toEqual(
      batches.flatMap((b) => b.resources.map((r) => `resource/${r.type}/${r.id}`)).sort(),
    );
    expect(keys("grant.created")).toEqual(
      batches.flatMap((b) => b.grants.map((g) => `grant/${g.id}`)).sort(),
    );
    // Sequences are taken in the writer's transaction: one per event, none shared.
    expect(new Set(events.map(({ e }) => e.sequence)).size).toBe(EVENTS);
    // The counts the writer kept on the tasks agree with the events.
    const counted = await db
      .selectFrom("tasks")
      .select((eb) => [
        eb.fn.sum<number>("grants_created").as("grants"),
        eb.fn.sum<number>("resources_created").as("resources"),
      ])
      .where("run_id", "=", runId)
      .executeTakeFirstOrThrow();
    expect({ grants: Number(counted.grants), resources: Number(counted.resources) }).toEqual({
      grants: BATCHES * GRANTS,
      resources: BATCHES * RESOURCES,
    });
  });
});
