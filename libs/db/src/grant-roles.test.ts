import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GrantRequest } from "@grantline/contracts";
import { asDatabaseAdmin, createTestDatabase, testInfra, uniqueName } from "@grantline/testing";
import { createDb, type Db } from "./create-db.ts";
import { connectedAsSuperuser, DB_ROLES } from "./grant-roles.ts";
import { DatabaseAccessError, openServiceDb } from "./open-service-db.ts";
import {
  accessToAccount,
  applyBatch,
  cancelRun,
  completeIdleRuns,
  failTask,
  migrateToLatest,
  startOutboxPublisher,
  startRun,
} from "./index.ts";
import { openMigratedTestDb } from "./migrated-test-db.fixture.ts";
import { expireDueGrants } from "./provisioning/expire-grants.ts";
import { listGrantRequests } from "./provisioning/list-grant-requests.ts";
import { recordProvisioningOutcome } from "./provisioning/pending-provisioning.ts";
import { SEED, seedSyncedAccess } from "./provisioning/provisioning.fixture.ts";
import { requestGrant } from "./provisioning/request-provisioning.ts";
import { diagRequest, entitlement, grant, resource, subjects, type TaskRows } from "./sync-run.fixture.ts";

type Role = keyof typeof DB_ROLES;
let opened: Awaited<ReturnType<typeof openMigratedTestDb>>;
const logins = new Map<Role, { name: string; db: Db }>();

beforeAll(async () => {
  opened = await openMigratedTestDb({ poolSize: 2 });
  for (const role of ["writer", "scheduler", "readonly"] as const) {
    // A login user in the role's group, as a deployment creates one (trust auth locally: no password).
    const name = uniqueName(`gl_${role}_`);
    await asDatabaseAdmin(testInfra().databaseUrl, `CREATE ROLE ${name} LOGIN IN ROLE ${DB_ROLES[role]}`);
    const url = new URL(opened.url);
    url.username = name;
    logins.set(role, { name, db: createDb({ url: url.toString(), poolSize: 2 }) });
  }
});
afterAll(async () => {
  for (const { db } of logins.values()) await db.destroy();
  await opened?.close();
  for (const { name } of logins.values())
    await asDatabaseAdmin(testInfra().databaseUrl, `DROP ROLE IF EXISTS ${name}`);
});

const as = (role: Role): Db => {
  const l = logins.get(role);
  if (!l) throw new Error(`no login user in ${role}`);
  return l.db;
};

/** A run of two tasks started by the scheduler role; returns its id and roots. */
async function scheduledRun(sourceId: string) {
  const runId = randomUUID();
  const roots = [0, 1].map((i) => diagRequest(runId, sourceId, { i }, `s${i}`));
  await startRun(as("scheduler"), { sourceId, runId, roots, subjects });
  return { runId, roots };
}

/** A run the scheduler starts and the writer applies, one task per entry (as syncRun, but each in its role). */
async function pipelineRun(sourceId: string, tasks: TaskRows[]): Promise<string> {
  const runId = randomUUID();
  const roots = tasks.map((t, i) => diagRequest(runId, sourceId, { i }, t.scope));
  await startRun(as("scheduler"), { sourceId, runId, roots, subjects });
  for (const [i, t] of tasks.entries()) {
    const b = { ...batch(roots[i]!), resources: t.resources ?? [], entitlements: [], grants: [] };
    expect((await applyBatch(as("writer"), subjects, b)).applied).toBe(true);
  }
  return runId;
}

const batch = (r: ReturnType<typeof diagRequest>) => ({
  v: 1 as const,
  taskId: r.taskId,
  runId: r.runId,
  sourceId: r.sourceId,
  scope: r.scope,
  resources: [resource("account", "111122223333"), resource("sso_user", `u-${r.scope}`)],
  entitlements: [entitlement("account", "111122223333", "assignment")],
  grants: [grant("account:111122223333:assignment", "sso_user", `u-${r.scope}`)],
  children: [],
  scopeComplete: true,
  keepScopes: [],
  stats: { awsCalls: 1, throttled: 0 },
  warnings: [],
});

describe("Postgres roles (migration 0010)", () => {
  it("the writer applies a scheduler's run to its end (derivations, sweep, ANALYZE) and publishes its outbox", async () => {
    const { runId, roots } = await scheduledRun("roles");
    for (const r of roots) expect((await applyBatch(as("writer"), subjects, batch(r))).applied).toBe(true);
    const run = await opened.db
      .selectFrom("runs")
      .select("status")
      .where("id", "=", runId)
      .executeTakeFirst();
    expect(run?.status).toBe("succeeded");
    const published: string[] = [];
    const outbox = startOutboxPublisher({
      db: as("writer"),
      pollMs: 60_000,
      sink: { publish: (subject) => Promise.resolve(void published.push(subject)) },
    });
    try {
      await outbox.flush();
      expect(published.length).toBeGreaterThan(0);
    } finally {
      await outbox.stop();
    }
  });

  it("the scheduler settles, fails and cancels runs; the writer fails a task from a dead letter", async () => {
    const failed = await scheduledRun("roles-failed");
    await failTask(as("writer"), subjects, {
      v: 1,
      stage: "fetcher",
      reason: "permanent",
      error: "denied",
      subject: "x",
      streamSeq: null,
      deliveryCount: 1,
      payload: "",
      failedAt: new Date().toISOString(),
      taskId: failed.roots[0]!.taskId,
      runId: failed.runId,
    });
    await applyBatch(as("writer"), subjects, batch(failed.roots[1]!));
    await completeIdleRuns(as("scheduler"), subjects);
    const cancelled = await scheduledRun("roles-cancelled");
    expect(await cancelRun(as("scheduler"), subjects, cancelled.runId)).toMatchObject({ kind: "cancelled" });
  });

  it("the read-only role answers access questions and can write nothing", async () => {
    const r = await accessToAccount(as("readonly"), "111122223333");
    expect(r.rows.length).toBeGreaterThan(0);
    await expect(sql`UPDATE grants SET revoked_at = now()`.execute(as("readonly"))).rejects.toThrow(
      /permission denied/,
    );
    await expect(sql`SELECT payload FROM outbox`.execute(as("readonly"))).rejects.toThrow(
      /permission denied/,
    );
    await expect(sql`DELETE FROM runs`.execute(as("readonly"))).rejects.toThrow(/permission denied/);
  });

  it("the scheduler records provisioning requests and fires expiries; the read-only role only reads them", async () => {
    const sourceId = `prov-${randomUUID().slice(0, 8)}`;
    await seedSyncedAccess(opened.db, sourceId);
    const reply = await requestGrant(as("scheduler"), subjects, {
      sourceId,
      request: GrantRequest.parse({
        id: `${sourceId}-r`,
        target: { kind: "group-membership", user: SEED.user, group: SEED.group },
        durationSeconds: 60,
      }),
      requester: "operator",
    });
    expect(reply).toMatchObject({ ok: true, state: "accepted" });
    await recordProvisioningOutcome(as("scheduler"), subjects, {
      requestIds: [`${sourceId}-r`],
      outcome: "confirmed",
    });
    const later = new Date(Date.now() + 120_000);
    expect(await expireDueGrants(as("scheduler"), subjects, later)).toMatchObject({ expired: 1, revokes: 1 });
    expect(await listGrantRequests(as("readonly"), { sourceId, all: true })).toHaveLength(2);
    await expect(sql`DELETE FROM grant_holders`.execute(as("scheduler"))).rejects.toThrow(
      /permission denied/,
    );
    await expect(sql`UPDATE provisioning_requests SET state = 'x'`.execute(as("readonly"))).rejects.toThrow(
      /permission denied/,
    );
  });

  it("no service role creates, alters or truncates tables", async () => {
    for (const role of ["writer", "scheduler", "readonly"] as const) {
      await expect(sql`CREATE TABLE forged (id int)`.execute(as(role))).rejects.toThrow(/permission denied/);
      await expect(sql`ALTER TABLE grants ADD COLUMN forged int`.execute(as(role))).rejects.toThrow(
        /must be owner/,
      );
      await expect(sql`TRUNCATE outbox`.execute(as(role))).rejects.toThrow(/permission denied/);
    }
    // The writer inserts no runs: only the scheduler starts them.
    await expect(
      sql`INSERT INTO runs (id, source_id, stats, warnings) VALUES (gen_random_uuid(), 'x', '{}', '[]')`.execute(
        as("writer"),
      ),
    ).rejects.toThrow(/permission denied/);
  });

  it("tells a superuser connection from a service role's", async () => {
    expect(await connectedAsSuperuser(opened.db)).toBe(true);
    expect(await connectedAsSuperuser(as("writer"))).toBe(false);
  });

  it("a service starts only with a login that holds its role's privileges; a superuser is warned about", async () => {
    const warnings: string[] = [];
    const logger = {
      warn: (m: unknown, s?: string) => void warnings.push(s ?? String(m)),
      info: () => undefined,
    };
    const urlOf = (user: string) => Object.assign(new URL(opened.url), { username: user }).toString();
    const open = (user: string, service: "writer" | "scheduler") =>
      openServiceDb({ settings: { DATABASE_URL: urlOf(user), DATABASE_POOL_SIZE: 1 }, service, logger });
    await (await open(logins.get("writer")!.name, "writer")).destroy();
    await (await open(logins.get("scheduler")!.name, "scheduler")).destroy();
    expect(warnings).toEqual([]);
    // The writer's login lacks what the scheduler needs (INSERT on runs, DELETE on tasks…).
    await expect(open(logins.get("writer")!.name, "scheduler")).rejects.toThrow(
      /lacks .*INSERT on runs.*grant it grantline_scheduler/,
    );
    await expect(open(uniqueName("gl_nobody_"), "writer")).rejects.toThrow(DatabaseAccessError);
    await (await open(new URL(opened.url).username || "postgres", "writer")).destroy();
    expect(warnings).toEqual([expect.stringMatching(/as a superuser: use a login user in grantline_writer/)]);
  });

  it("migrates many databases of one server at once (the roles are created once, the grants per database)", async () => {
    const dbs = await Promise.all([1, 2, 3].map(() => createTestDatabase(testInfra().databaseUrl)));
    try {
      const results = await Promise.all(
        dbs.map(async (t) => {
          const db = createDb({ url: t.url, poolSize: 1 });
          try {
            return (await migrateToLatest(db)).error;
          } finally {
            await db.destroy();
          }
        }),
      );
      expect(results).toEqual([undefined, undefined, undefined]);
    } finally {
      await Promise.all(dbs.map((t) => t.drop()));
    }
  });
});

describe("external-id values (migration 0013)", () => {
  const role = (name: string, ids: string[]) =>
    resource(
      "iam_role",
      `arn:aws:iam::111122223333:role/${name}`,
      {
        trustPolicy: JSON.stringify({
          Condition: { StringEquals: { "sts:ExternalId": ids.map((v) => `fp-${v}`) } },
        }),
      },
      { trustExternalIds: ids.map((v) => ({ fingerprint: `fp-${v}`, value: `secret-${v}` })) },
    );
  const stored = async (sourceId: string) =>
    (
      await sql<{ resource_id: string; fingerprint: string; value: string }>`
        SELECT resource_id, fingerprint, value FROM trust_external_ids WHERE source_id = ${sourceId}
         ORDER BY resource_id, fingerprint`.execute(opened.db)
    ).rows.map((r) => `${r.resource_id.split("/")[1]} ${r.fingerprint}=${r.value}`);

  it("the writer stores a role's values with its row, replaces them as the policy changes, drops them with the swept role; events and readable rows carry fingerprints", async () => {
    const src = "ext-ids";
    const first = await pipelineRun(src, [
      { scope: "a", resources: [role("vendor", ["1", "2"]), role("plain", [])] },
    ]);
    expect(await stored(src)).toEqual(["vendor fp-1=secret-1", "vendor fp-2=secret-2"]);
    const payloads = await opened.db.selectFrom("outbox").select("payload").execute();
    const events = payloads.map((p) => p.payload).filter((p) => p.includes(first));
    expect(events.some((p) => p.includes("fp-1"))).toBe(true);
    expect(events.join("\n")).not.toMatch(/secret-/);
    const readable = await accessRows(src);
    expect(readable).toContain("fp-1");
    expect(readable).not.toMatch(/secret-/);

    await pipelineRun(src, [{ scope: "a", resources: [role("vendor", ["2", "3"]), role("plain", [])] }]);
    expect(await stored(src)).toEqual(["vendor fp-2=secret-2", "vendor fp-3=secret-3"]);
    // The role is gone from its scope: the sweep marks it deleted and its values go with it.
    await pipelineRun(src, [{ scope: "a", resources: [role("plain", [])] }]);
    expect(await stored(src)).toEqual([]);
  });

  it("only the writer reads them: the read-only role and the scheduler are refused", async () => {
    for (const r of ["readonly", "scheduler"] as const)
      await expect(sql`SELECT value FROM trust_external_ids`.execute(as(r))).rejects.toThrow(
        /permission denied/,
      );
    await expect(sql`SELECT count(*) FROM trust_external_ids`.execute(as("writer"))).resolves.toBeDefined();
  });

  /** Everything the read-only role can read about the source's resources, as one string. */
  async function accessRows(sourceId: string): Promise<string> {
    const r = await sql`SELECT * FROM resources WHERE source_id = ${sourceId}`.execute(as("readonly"));
    return JSON.stringify(r.rows);
  }
});
