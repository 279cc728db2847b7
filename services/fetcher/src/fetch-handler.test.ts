import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AwsExecutor } from "@grantline/aws";
import { startAwsSim } from "@grantline/aws-sim";
import type { AwsSim } from "@grantline/aws-sim";
import { SourceConfig } from "@grantline/config";
import { PageResult } from "@grantline/contracts";
import type { PageRequest } from "@grantline/contracts";
import { createLogger } from "@grantline/log";
import { createRedis } from "@grantline/redis";
import type { Redis } from "@grantline/redis";
import { testInfra, uniqueName } from "@grantline/testing";
import { createFetcherAwsExecutor } from "./create-fetcher-aws-executor.ts";
import { createDiagExecutor } from "./diag-executor.ts";
import { createFetchHandler } from "./fetch-handler.ts";
import { createRoutingExecutor } from "./routing-executor.ts";

const logger = createLogger({ service: "fetcher-test", level: "silent" });
const keyPrefix = `${uniqueName("fetchh")}:`;
let sim: AwsSim;
let redis: Redis;
let aws: AwsExecutor;
let source: SourceConfig;

beforeAll(async () => {
  sim = await startAwsSim({ preset: "tiny" });
  redis = createRedis({ url: testInfra().redisUrl, keyPrefix, name: "fetch-handler-test" });
  source = SourceConfig.parse({
    id: uniqueName("src"),
    endpoint: sim.url,
    staticCredentials: sim.managementCredentials,
  });
  aws = createFetcherAwsExecutor(
    {
      sources: { sources: [source] },
      BREAKER_ERROR_PERCENT: 50,
      BREAKER_RESET_MS: 30_000,
      PERMISSION_SET_CACHE_TTL_S: 3600,
      AWS_CALL_TIMEOUT_MS: 30_000,
      AWS_UNAVAILABLE_GIVE_UP_MS: 300_000,
      LIST_PAGES_READ_ITEMS: false,
    },
    { redis, logger },
  );
});

afterAll(async () => {
  await aws.close();
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length) await redis.del(...keys.map((k) => k.slice(keyPrefix.length)));
  await redis.quit();
  await sim.close();
});

function request(service: PageRequest["service"], operation: string, accountId: string | null = null) {
  return {
    v: 1 as const,
    taskId: randomUUID(),
    runId: randomUUID(),
    sourceId: source.id,
    service,
    operation,
    params: {},
    pageToken: null,
    accountId,
    scope: null,
    pageIndex: 0,
  };
}

async function handle(req: PageRequest): Promise<PageResult> {
  const published: PageResult[] = [];
  const handler = createFetchHandler({
    executor: createRoutingExecutor({ diag: createDiagExecutor(), iam: aws, organizations: aws }),
    publisher: {
      publish: (r) => {
        published.push(r);
        return Promise.resolve();
      },
    },
  });
  await handler(req, {
    logger,
    signal: new AbortController().signal,
    subject: "test",
    seq: 1,
    deliveryCount: 1,
    headers: undefined,
    working: () => {},
  });
  expect(published).toHaveLength(1);
  // What goes on the wire must survive JSON and match the contract.
  return PageResult.parse(JSON.parse(JSON.stringify(published[0])));
}

describe("fetch handler with the AWS executor", () => {
  it("publishes AWS pages that satisfy the PageResult contract", async () => {
    // Catalog operations only: PageResult's schema refuses a request the pipeline could not map.
    const iam = await handle(request("iam", "GetAccountAuthorizationDetails"));
    expect((iam.page.UserDetailList as unknown[]).length).toBeGreaterThan(0);
    expect(iam.skipped).toBeNull();
    const accounts = await handle(request("organizations", "ListAccounts"));
    expect((accounts.page.Accounts as unknown[]).length).toBeGreaterThan(0);
  });

  it("publishes a denied account as skipped with its warning", async () => {
    const suspended = sim.exportOrg().accounts.find((a) => a.status === "SUSPENDED")!.id;
    const out = await handle(request("iam", "ListAccountAliases", suspended));
    expect(out.skipped).toBe("AccessDenied");
    expect(out.page).toEqual({});
    expect(out.warnings[0]).toMatch(new RegExp(`^account ${suspended}: cannot assume `));
  });
});
