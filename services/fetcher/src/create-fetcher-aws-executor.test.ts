import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CircuitOpenError } from "@grantline/aws";
import type { AwsExecutor } from "@grantline/aws";
import { startAwsSim } from "@grantline/aws-sim";
import type { AwsSim } from "@grantline/aws-sim";
import { SourceConfig } from "@grantline/config";
import { RetryableError } from "@grantline/contracts";
import type { PageRequest } from "@grantline/contracts";
import { createLogger } from "@grantline/log";
import { feedPollRequest, sourceFeeds } from "@grantline/model";
import { createRedis } from "@grantline/redis";
import type { Redis } from "@grantline/redis";
import { testInfra, uniqueName, waitFor } from "@grantline/testing";
import { createFetcherAwsExecutor } from "./create-fetcher-aws-executor.ts";
import type { FetcherAwsSettings } from "./create-fetcher-aws-executor.ts";

// Each fetcher setting the executor honours, shown by behaviour that differs from its default.
const logger = createLogger({ service: "fetcher-aws-test", level: "silent" });
const keyPrefix = `${uniqueName("fetchaws")}:`;
const DEFAULTS = {
  BREAKER_ERROR_PERCENT: 50,
  BREAKER_RESET_MS: 30_000,
  PERMISSION_SET_CACHE_TTL_S: 3600,
  AWS_CALL_TIMEOUT_MS: 30_000,
  AWS_UNAVAILABLE_GIVE_UP_MS: 300_000,
  LIST_PAGES_READ_ITEMS: false,
};
let sim: AwsSim;
let redis: Redis;
const executors: AwsExecutor[] = [];
const ctx = () => ({ signal: new AbortController().signal, deliveryCount: 1 });

beforeAll(async () => {
  sim = await startAwsSim({ preset: "tiny" });
  redis = createRedis({ url: testInfra().redisUrl, keyPrefix, name: "fetcher-aws-test" });
});

afterAll(async () => {
  await Promise.all(executors.map((e) => e.close()));
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length) await redis.del(...keys.map((k) => k.slice(keyPrefix.length)));
  await redis.quit();
  await sim.close();
});

function source(): SourceConfig {
  return SourceConfig.parse({
    id: uniqueName("src"),
    endpoint: sim.url,
    staticCredentials: sim.managementCredentials,
    budgets: { organizations: 100, "sso-admin": 100, cloudtrail: 100 },
  });
}

function executor(src: SourceConfig, settings: Partial<typeof DEFAULTS>): AwsExecutor {
  const config: FetcherAwsSettings = { sources: { sources: [src] }, ...DEFAULTS, ...settings };
  const ex = createFetcherAwsExecutor(config, { redis, logger });
  executors.push(ex);
  return ex;
}

function req(
  src: SourceConfig,
  service: PageRequest["service"],
  operation: string,
  params = {},
): PageRequest {
  return {
    v: 1,
    taskId: randomUUID(),
    runId: randomUUID(),
    sourceId: src.id,
    service,
    operation,
    params,
    pageToken: null,
    accountId: null,
    scope: null,
    pageIndex: 0,
  };
}

describe("createFetcherAwsExecutor honours the fetcher's settings", () => {
  it("PERMISSION_SET_CACHE_TTL_S: the cached page lives that long, and is described again after it", async () => {
    const ic = sim.exportOrg().identityCenter!;
    const [short, long] = ic.permissionSets;
    const src = source();
    const describe = (ex: AwsExecutor, arn: string) =>
      ex.execute(
        req(src, "sso-admin", "DescribePermissionSet", {
          InstanceArn: ic.instanceArn,
          PermissionSetArn: arn,
        }),
        ctx(),
      );
    const describes = () => sim.counters().operations["sso:DescribePermissionSet"]?.calls ?? 0;

    await describe(executor(src, {}), long!.arn);
    expect(await redis.ttl(`aws:ps:${long!.arn}`)).toBeGreaterThan(3500);

    const ex = executor(src, { PERMISSION_SET_CACHE_TTL_S: 1 });
    sim.resetCounters();
    const first = await describe(ex, short!.arn);
    expect(describes()).toBe(1);
    const pttl = await redis.pttl(`aws:ps:${short!.arn}`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(1000);
    await describe(ex, short!.arn);
    expect(describes()).toBe(1);
    await waitFor(async () => (await redis.exists(`aws:ps:${short!.arn}`)) === 0, {
      message: "the cached permission set expires",
    });
    const again = await describe(ex, short!.arn);
    expect(describes()).toBe(2);
    expect(again.page).toEqual(first.page);
  });

  it("AWS_CALL_TIMEOUT_MS: a slower AWS answer is aborted, where the default waits for it", async () => {
    const src = source();
    const quick = executor(src, { AWS_CALL_TIMEOUT_MS: 200 });
    const patient = executor(src, {});
    sim.setFaults({ latency: { minMs: 2500, maxMs: 2500 } });
    try {
      const started = performance.now();
      const err: unknown = await quick
        .execute(req(src, "organizations", "DescribeOrganization"), ctx())
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RetryableError);
      expect(performance.now() - started).toBeLessThan(2500);
      const slow = await patient.execute(req(src, "organizations", "DescribeOrganization"), ctx());
      expect(slow.page.Organization).toBeTruthy();
    } finally {
      sim.setFaults({ latency: null });
    }
  });

  it("BREAKER_ERROR_PERCENT and BREAKER_RESET_MS: when the circuit opens, and for how long", async () => {
    const src = source();
    const ex = executor(src, { BREAKER_ERROR_PERCENT: 70, BREAKER_RESET_MS: 300 });
    const call = async (fail: boolean): Promise<unknown> => {
      sim.setFaults({ errorRate: fail ? 1 : 0 });
      return ex.execute(req(src, "organizations", "ListRoots"), ctx()).catch((e: unknown) => e);
    };
    try {
      // 7 failures in 10 calls is 70 %: the default (50) would open the circuit, 70 does not.
      for (const fail of [false, false, false, true, true, true, true, true, true, true]) await call(fail);
      const stillClosed = await call(false);
      expect(stillClosed).not.toBeInstanceOf(Error);
      // 10 failures in 14 calls is 71 %: open.
      for (let i = 0; i < 3; i++) expect(await call(true)).not.toBeInstanceOf(CircuitOpenError);
      const refused = await call(false);
      expect(refused).toBeInstanceOf(CircuitOpenError);
      expect((refused as CircuitOpenError).retryAfterMs).toBe(300);
      // It lets a trial call through after 300 ms; the default (30 s) would outlast this wait.
      await waitFor(async () => !((await call(false)) instanceof Error), {
        timeoutMs: 10_000,
        message: "the circuit closes after BREAKER_RESET_MS",
      });
    } finally {
      sim.setFaults({ errorRate: 0 });
    }
  });
});

describe("the permission-set cache and the change feeds", () => {
  it("a feed page that shows a permission set changed drops its cached description; the others stay cached", async () => {
    const ic = sim.exportOrg().identityCenter!;
    const [changed, unchanged] = ic.permissionSets;
    const src = source();
    const ex = executor(src, {});
    const describe = async (arn: string) => {
      const before = sim.counters().operations["sso:DescribePermissionSet"]?.calls ?? 0;
      const out = await ex.execute(
        req(src, "sso-admin", "DescribePermissionSet", {
          InstanceArn: ic.instanceArn,
          PermissionSetArn: arn,
        }),
        ctx(),
      );
      const calls = (sim.counters().operations["sso:DescribePermissionSet"]?.calls ?? 0) - before;
      return { boundary: out.page.PermissionsBoundary, calls };
    };
    await describe(changed!.arn);
    await describe(unchanged!.arn);
    const since = new Date(Date.now() - 60_000);

    sim.mutate.putPermissionSetBoundary({
      permissionSetArn: changed!.arn,
      boundary: { managedPolicyArn: "arn:aws:iam::aws:policy/PowerUserAccess" },
    });
    // Within the TTL and before any feed has seen the change, the cache is trusted: no AWS call.
    expect((await describe(changed!.arn)).calls).toBe(0);

    const feed = sourceFeeds({
      managementAccountId: sim.managementAccountId,
      iamAccountIds: [],
      identityCenterRegion: sim.identityCenterRegion,
      managementFeeds: "combined",
    }).find((f) => f.region === sim.identityCenterRegion)!;
    const poll = feedPollRequest({ runId: randomUUID(), sourceId: src.id, feed, since, end: new Date() });
    const page = await ex.execute(poll, ctx());
    expect(JSON.stringify(page.page)).toContain("PutPermissionsBoundaryToPermissionSet");

    expect(await redis.exists(`aws:ps:${changed!.arn}`)).toBe(0);
    expect(await redis.exists(`aws:ps:${unchanged!.arn}`)).toBe(1);
    const fresh = await describe(changed!.arn);
    expect(fresh).toEqual({
      calls: 1,
      boundary: { ManagedPolicyArn: "arn:aws:iam::aws:policy/PowerUserAccess" },
    });
    expect((await describe(unchanged!.arn)).calls).toBe(0);
  });
});
