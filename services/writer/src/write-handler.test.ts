import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSubjects, pageRequest, PermanentError, type ResultBatch } from "@grantline/contracts";
import {
  applyBatch,
  createDb,
  failTask,
  warnTask,
  isUnstorableDataError,
  migrateToLatest,
  runSummaries,
  startRun,
  storableBatch,
  type Db,
} from "@grantline/db";
import { createLogger } from "@grantline/log";
import type { MessageContext } from "@grantline/nats";
import { createTestDatabase, testInfra, type TestDatabase } from "@grantline/testing";
import { createWriteHandler, type WriteHandlerDeps } from "./write-handler.ts";

const subjects = createSubjects("t");
const logger = createLogger({ service: "writer-test", level: "silent" });
let tdb: TestDatabase;
let db: Db;

beforeAll(async () => {
  tdb = await createTestDatabase(testInfra().databaseUrl);
  db = createDb({ url: tdb.url, poolSize: 2 });
  const m = await migrateToLatest(db);
  if (m.error) throw m.error;
});
afterAll(async () => {
  await db.destroy();
  await tdb.drop();
});

const deps = (): WriteHandlerDeps => ({
  store: {
    apply: (b) => applyBatch(db, subjects, b),
    failTask: (l) => failTask(db, subjects, l),
    warnTask: (l) => warnTask(db, l),
  },
  repair: { isDataError: isUnstorableDataError, storable: storableBatch },
  kickOutbox: () => undefined,
});

const ctx = { logger, signal: new AbortController().signal } as unknown as MessageContext;

async function runWithOneTask(sourceId: string): Promise<{ runId: string; taskId: string }> {
  const runId = randomUUID();
  const root = pageRequest({
    runId,
    sourceId,
    service: "diag",
    operation: "Pages",
    params: { pages: 1 },
    pageToken: null,
    accountId: null,
    scope: "s",
    pageIndex: 0,
  });
  await startRun(db, { sourceId, runId, roots: [root], subjects });
  return { runId, taskId: root.taskId };
}

function batchWith(
  runId: string,
  taskId: string,
  sourceId: string,
  users: Array<[string, string]>,
): ResultBatch {
  return {
    v: 1,
    taskId,
    runId,
    sourceId,
    scope: "s",
    resources: users.map(([id, name]) => ({
      type: "sso_user",
      id,
      parentType: null,
      parentId: null,
      name,
      attrs: { displayName: name, note: "lone \uD800 surrogate" },
    })),
    entitlements: [],
    grants: users.map(([id]) => ({
      id: `g|${id}`,
      entitlementId: "sso_group:g:member",
      principalType: "sso_user",
      principalId: id,
      expandable: false,
      attrs: {},
    })),
    children: [],
    scopeComplete: true,
    keepScopes: [],
    stats: { awsCalls: 1, throttled: 0 },
    warnings: [],
  };
}

describe("the writer and data Postgres cannot store", () => {
  it("cleans NULs and lone surrogates, skips ids too long to index, warns on the run and keeps the rest", async () => {
    const { runId, taskId } = await runWithOneTask("nul");
    const longId = "x".repeat(3000);
    const batch = batchWith(runId, taskId, "nul", [
      ["u-ok", "alice"],
      ["u-nul\u0000", "bob\u0000smith"],
      [longId, "carol"],
    ]);
    // As it comes, Postgres refuses the batch: without the repair this is a retry loop.
    await expect(applyBatch(db, subjects, batch)).rejects.toSatisfy(isUnstorableDataError);

    await createWriteHandler(deps())(batch, ctx);
    const users = await db
      .selectFrom("resources")
      .select(["id", "name"])
      .where("source_id", "=", "nul")
      .orderBy("id")
      .execute();
    expect(users).toEqual([
      { id: "u-nul\uFFFD", name: "bob\uFFFDsmith" },
      { id: "u-ok", name: "alice" },
    ]);
    const grants = await db
      .selectFrom("grants")
      .select("principal_id")
      .where("source_id", "=", "nul")
      .execute();
    expect(grants.map((g) => g.principal_id).sort()).toEqual(["u-nul\uFFFD", "u-ok"]);
    const [run] = await runSummaries(db, { runId });
    expect(run?.status).toBe("succeeded");
    expect(run?.warnings.join("\n")).toMatch(/u-nul\uFFFD: NUL or invalid UTF-16 replaced/);
    expect(run?.warnings.join("\n")).toMatch(/id over 2048 bytes, row skipped/);
  });

  it("dead-letters a batch that stays unstorable, instead of retrying it", async () => {
    const { runId, taskId } = await runWithOneTask("poison");
    const batch = batchWith(runId, taskId, "poison", [["u", "x"]]);
    const handler = createWriteHandler({
      ...deps(),
      // A repair that cannot help: the error must become permanent, not a retry.
      repair: { isDataError: isUnstorableDataError, storable: (b) => b },
      store: {
        ...deps().store,
        apply: () => Promise.reject(Object.assign(new Error("invalid byte sequence"), { code: "22021" })),
      },
    });
    await expect(handler(batch, ctx)).rejects.toBeInstanceOf(PermanentError);
  });
});
