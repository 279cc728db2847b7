import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSubjects, GrantRequest, GrantsRequest } from "@grantline/contracts";
import * as pgdb from "@grantline/db";
import { createLogger } from "@grantline/log";
import { createTestDatabase, testInfra } from "@grantline/testing";
import { createExpiryTick } from "./expiry-tick.ts";
import { createPgProvisioningStore } from "./pg-run-store.ts";
import { createProvisioningHandlers } from "./provisioning-handlers.ts";

const logger = createLogger({ service: "test", level: "silent" });
const subjects = createSubjects("t");
let db: pgdb.Db;
let drop: () => Promise<void>;

beforeAll(async () => {
  const t = await createTestDatabase(testInfra().databaseUrl);
  db = pgdb.createDb({ url: t.url, poolSize: 2 });
  const { error } = await pgdb.migrateToLatest(db);
  if (error) throw new Error(String(error));
  drop = t.drop;
  const run = randomUUID();
  const row = (type: string, id: string, name: string) => ({
    source_id: "acme",
    type,
    id,
    parent_type: null,
    parent_id: null,
    name,
    attrs: JSON.stringify({ identityStoreId: "d-1" }),
    scope: null,
    first_seen_run: run,
    last_seen_run: run,
  });
  await db
    .insertInto("resources")
    .values([row("sso_user", "u-1", "ann@example.com"), row("sso_group", "g-1", "Ops")])
    .execute();
});
afterAll(async () => {
  await db?.destroy();
  await drop?.();
});

describe("provisioning through the scheduler's Postgres store", () => {
  it("a grant from a NATS user is recorded as theirs, listed, and expires once on the leader's tick", async () => {
    const handlers = createProvisioningHandlers(new Set(["acme"]), createPgProvisioningStore(db, subjects));
    const ctx = { logger, user: "alice", signal: new AbortController().signal };
    const target = { kind: "group-membership", user: "ann@example.com", group: "Ops" };
    const reply = await handlers.grant(
      GrantRequest.parse({ id: "inc-1", target, durationSeconds: 60, reason: "incident" }),
      ctx,
    );
    expect(reply).toMatchObject({ ok: true, requestId: "inc-1", state: "accepted" });
    expect(await handlers.grants(GrantsRequest.parse({}), ctx)).toMatchObject({
      ok: true,
      requests: [{ id: "inc-1", requester: "alice", reason: "incident", holders: [{ holder: "inc-1" }] }],
    });
    let kicks = 0;
    const later = new Date(Date.now() + 120_000);
    const tick = createExpiryTick({
      isLeader: () => true,
      expire: () => pgdb.expireDueGrants(db, subjects, later),
      kickOutbox: () => void kicks++,
      logger,
    });
    await Promise.all([tick(), tick()]);
    await tick();
    expect(kicks).toBe(1);
    expect(await handlers.grants(GrantsRequest.parse({}), ctx)).toEqual({ ok: true, requests: [] });
    expect(await handlers.grants(GrantsRequest.parse({ all: true }), ctx)).toMatchObject({
      ok: true,
      requests: [{ id: "inc-1", state: "expired", holders: [] }],
    });
  });
});
