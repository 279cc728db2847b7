import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCESS_ROLE, startAwsSim, type AwsSim } from "@grantline/aws-sim";
import type { RefreshReply } from "@grantline/contracts";
import { DB_ROLES } from "@grantline/db";
import { createRedis, redisAcl, type Redis } from "@grantline/redis";
import { asDatabaseAdmin, testInfra, uniqueName } from "@grantline/testing";
import { diffRows, expectedIamRows, expectedRows, mergeRows } from "./ground-truth.ts";
import {
  createPipeline,
  liveRows,
  simSource,
  spawnService,
  syncAndWait,
  type Pipeline,
} from "./pipeline-harness.ts";

// Issue 14: every service runs its whole path under its own credentials — the scheduler and the writer as
// Postgres logins in their roles (no superuser), the fetcher as a Redis ACL user limited to its key prefix —
// and a full sync, a second sync served from the permission-set cache, and a targeted refresh all succeed.

let sim: AwsSim;
let p: Pipeline;
let admin: Redis;
const pgUsers = new Map<"writer" | "scheduler" | "readonly", string>();
const redisUser = uniqueName("gl_e2e_fetcher_");
const secrets = mkdtempSync(join(tmpdir(), "gl-lp-"));

/** A secret file, as a mounted Kubernetes Secret or compose secret would be. */
function secretFile(name: string, value: string): string {
  const path = join(secrets, name);
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return path;
}

beforeAll(async () => {
  sim = await startAwsSim({ preset: "small", seed: 14 });
  p = await createPipeline({
    sources: {
      sources: [
        simSource("acme", sim, {
          iam: { enabled: true, crossAccount: true, roleName: ACCESS_ROLE, onlyAttachedPolicies: true },
        }),
      ],
    },
  });
  for (const service of ["writer", "scheduler"] as const) {
    const name = uniqueName(`gl_e2e_${service}_`);
    // The local server trusts local connections, so the password is not checked here; the file path is.
    await asDatabaseAdmin(
      testInfra().databaseUrl,
      `CREATE ROLE ${name} LOGIN PASSWORD 'unused-locally' IN ROLE ${DB_ROLES[service]}`,
    );
    pgUsers.set(service, name);
    const url = new URL(p.databaseUrl);
    url.username = name;
    p.start(service, {
      DATABASE_URL: url.toString(),
      DATABASE_PASSWORD_FILE: secretFile(`${service}-db-password`, "unused-locally"),
    });
  }
  const password = randomBytes(16).toString("hex");
  admin = createRedis({ url: testInfra().redisUrl });
  const [, , ...rules] = redisAcl(p.env.REDIS_KEY_PREFIX!, {
    user: redisUser,
    password: `>${password}`,
  }).split(" ");
  await admin.call("ACL", "SETUSER", redisUser, ...rules);
  p.start("fetcher", {
    REDIS_USERNAME: redisUser,
    REDIS_PASSWORD_FILE: secretFile("fetcher-redis-password", password),
  });
  p.start("mapper");
});
afterAll(async () => {
  await p?.close();
  await sim?.close();
  if (admin) {
    await admin.call("ACL", "DELUSER", redisUser);
    const keys = await admin.keys(`${p?.env.REDIS_KEY_PREFIX ?? "none:"}*`);
    if (keys.length) await admin.del(...keys);
    admin.disconnect();
  }
  for (const name of pgUsers.values())
    await asDatabaseAdmin(testInfra().databaseUrl, `DROP ROLE IF EXISTS ${name}`);
});

const expected = () => mergeRows(expectedRows(sim.exportOrg()), expectedIamRows(sim.exportOrg()));

describe("each service under its own least-privilege credentials", () => {
  it("a service refuses to start, with one line, under credentials that lack what it needs", async () => {
    const reader = uniqueName("gl_e2e_reader_");
    await asDatabaseAdmin(
      testInfra().databaseUrl,
      `CREATE ROLE ${reader} LOGIN IN ROLE ${DB_ROLES.readonly}`,
    );
    pgUsers.set("readonly", reader);
    const url = new URL(p.databaseUrl);
    url.username = reader;
    const writer = spawnService("writer", { ...p.env, DATABASE_URL: url.toString() });
    const fetcher = spawnService("fetcher", { ...p.env, REDIS_USERNAME: redisUser, REDIS_PASSWORD: "wrong" });
    expect((await writer.exited).code).toBe(1);
    expect((await fetcher.exited).code).toBe(1);
    const fatal = (out: string[]) =>
      out
        .join("")
        .split("\n")
        .filter((l) => l.includes('"level":"fatal"') || l.includes('"level":60'));
    expect(fatal(writer.output)).toEqual([
      expect.stringMatching(/lacks .*INSERT on outbox.*grantline_writer/),
    ]);
    expect(fatal(fetcher.output)).toEqual([
      expect.stringMatching(/redis refused the fetcher's user: WRONGPASS/),
    ]);
  });

  it("a full sync reaches the ground truth; no service connected as a superuser", async () => {
    await syncAndWait(p, "acme");
    expect(diffRows(expected(), await liveRows(p, "acme"))).toEqual([]);
    expect(p.logs()).not.toMatch(/as a superuser/);
    expect(p.logs()).not.toMatch(/NOPERM|permission denied/);
  });

  it("a second sync reads permission sets from the fetcher's cache (its ACL allows its own keys)", async () => {
    sim.resetCounters();
    await syncAndWait(p, "acme");
    expect(sim.counters().operations["sso:DescribePermissionSet"]?.calls ?? 0).toBe(0);
    expect(diffRows(expected(), await liveRows(p, "acme"))).toEqual([]);
  });

  it("a targeted refresh runs under the scheduler's and the writer's roles", async () => {
    const ic = sim.exportOrg().identityCenter!;
    const group = ic.groups[0]!;
    const r = await p.request<RefreshReply>("refresh", {
      sourceId: "acme",
      target: `sso_group:${group.groupId}`,
    });
    if (!r.ok) throw new Error(r.error);
    expect(await p.waitForRun(r.runId!, 120_000)).toBe("succeeded");
    expect(p.logs()).not.toMatch(/NOPERM|permission denied/);
  });
});
