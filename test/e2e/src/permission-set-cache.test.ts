import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsSim, type AwsSim } from "@grantline/aws-sim";
import { createRedis, type Redis } from "@grantline/redis";
import { testInfra, waitFor } from "@grantline/testing";
import { diffRows, expectedRows } from "./ground-truth.ts";
import {
  createPipeline,
  liveRows,
  QUICK_FEEDS,
  simSource,
  syncAndWait,
  type Pipeline,
} from "./pipeline-harness.ts";

// Second full syncs inside the permission-set cache's TTL: no permission set that did not change is described
// again, one whose change a feed saw is, and so is one whose entry's TTL lapsed; rows stay the ground truth.
let sim: AwsSim;
let p: Pipeline;
let redis: Redis;

beforeAll(async () => {
  sim = await startAwsSim({ preset: "small", seed: 17 });
  p = await createPipeline({ sources: { sources: [simSource("acme", sim, { feeds: QUICK_FEEDS })] } });
  p.startAll();
  redis = createRedis({ url: testInfra().redisUrl, keyPrefix: p.env.REDIS_KEY_PREFIX! });
});
afterAll(async () => {
  await redis?.quit();
  await p?.close();
  await sim?.close();
});

/** The trail's position now: describe calls after it are the ones counted. */
const mark = (): number => sim.trail().at(-1)?.seq ?? 0;

/** DescribePermissionSet calls per permission set ARN since `since` (aws-sim records read calls in its trail). */
function describedSince(since: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of sim.trail()) {
    if (e.seq <= since || e.eventName !== "DescribePermissionSet") continue;
    const arn = (e.record.requestParameters as { permissionSetArn?: string } | null)?.permissionSetArn ?? "?";
    out.set(arn, (out.get(arn) ?? 0) + 1);
  }
  return out;
}

const permissionSetRow = (arn: string) =>
  p.db
    .selectFrom("resources")
    .select("attrs")
    .where("source_id", "=", "acme")
    .where("type", "=", "permission_set")
    .where("id", "=", arn)
    .executeTakeFirstOrThrow();

describe("the permission-set cache across full syncs", () => {
  it("the first sync describes every permission set once", async () => {
    const since = mark();
    await syncAndWait(p, "acme");
    const sets = sim.exportOrg().identityCenter!.permissionSets;
    expect(describedSince(since)).toEqual(new Map(sets.map((s) => [s.arn, 1])));
  });

  it("a second sync within the TTL describes none, and its rows are the ground truth", async () => {
    const since = mark();
    await syncAndWait(p, "acme");
    expect(describedSince(since)).toEqual(new Map());
    expect(diffRows(expectedRows(sim.exportOrg()), await liveRows(p, "acme"))).toEqual([]);
  });

  it("a set changed in between is described again once its change event is seen; the others are not", async () => {
    const [changed, ...others] = sim.exportOrg().identityCenter!.permissionSets;
    const since = mark();
    const boundary = { managedPolicyArn: "arn:aws:iam::aws:policy/PowerUserAccess" };
    sim.mutate.putPermissionSetBoundary({ permissionSetArn: changed!.arn, boundary });
    await waitFor(
      () =>
        p.db
          .selectFrom("refresh_queue")
          .select("id")
          .where("source_id", "=", "acme")
          .where("event_name", "=", "PutPermissionsBoundaryToPermissionSet")
          .executeTakeFirst(),
      { timeoutMs: 60_000, message: "the feed to see the permission set's change" },
    );
    await syncAndWait(p, "acme");
    const described = describedSince(since);
    // By the targeted refresh the event queued, by the full sync after the feed dropped the entry, or by both.
    expect(described.get(changed!.arn)).toBeGreaterThanOrEqual(1);
    for (const o of others) expect(described.get(o.arn)).toBeUndefined();
    expect((await permissionSetRow(changed!.arn)).attrs).toMatchObject({ permissionsBoundary: boundary });
    expect(diffRows(expectedRows(sim.exportOrg()), await liveRows(p, "acme"))).toEqual([]);
  });

  it("a set whose cached entry's TTL lapsed is described again by the next sync; the others are not", async () => {
    const [, lapsed, ...others] = sim.exportOrg().identityCenter!.permissionSets;
    const key = `aws:ps:${lapsed!.arn}`;
    expect(await redis.ttl(key)).toBeGreaterThan(60);
    // What the TTL's end is: Redis expires the entry.
    await redis.pexpire(key, 1);
    await waitFor(async () => (await redis.exists(key)) === 0, { message: "the entry to expire" });
    const since = mark();
    await syncAndWait(p, "acme");
    const described = describedSince(since);
    expect(described.get(lapsed!.arn)).toBe(1);
    for (const o of others) expect(described.get(o.arn)).toBeUndefined();
    expect(await redis.ttl(key)).toBeGreaterThan(60);
  });
});
