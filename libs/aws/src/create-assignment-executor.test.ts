import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SourceConfig } from "@grantline/config";
import { PermanentError } from "@grantline/contracts";
import { createLogger } from "@grantline/log";
import { createRateLimiter, createRedis } from "@grantline/redis";
import type { Redis } from "@grantline/redis";
import { startAwsSim } from "@grantline/aws-sim";
import type { AwsSim } from "@grantline/aws-sim";
import { testInfra, uniqueName, waitFor } from "@grantline/testing";
import type { AccessChange } from "./access-change.ts";
import { createRedisSemaphore } from "./assignment-semaphore.ts";
import { createAssignmentExecutor } from "./create-assignment-executor.ts";
import type { AssignmentExecutor } from "./create-assignment-executor.ts";

const keyPrefix = `${uniqueName("awsprov")}:`;
const logger = createLogger({ service: "aws-test", level: "silent" });
let sim: AwsSim;
let src: SourceConfig;
const connections: Redis[] = [];
const executors: AssignmentExecutor[] = [];
const ctx = () => ({ signal: new AbortController().signal, logger });

beforeAll(async () => {
  sim = await startAwsSim({ preset: "small", seed: 21 });
  src = SourceConfig.parse({
    id: uniqueName("src"),
    endpoint: sim.url,
    staticCredentials: sim.managementCredentials,
    iam: { crossAccount: true },
    // Above AWS's 20/s so that the outstanding cap, not the call budget, is what limits the grants below.
    budgets: { "sso-admin": 500 },
  });
});
beforeEach(() => {
  sim.setFaults({ assignmentDelayMs: 0, assignmentOutstandingCap: 15 });
  sim.resetProvisioning();
});
afterAll(async () => {
  await Promise.all(executors.map((e) => e.close()));
  const admin = connections[0];
  if (admin) {
    const keys = await admin.keys(`${keyPrefix}*`);
    if (keys.length) await admin.del(...keys.map((k) => k.slice(keyPrefix.length)));
  }
  for (const r of connections) r.disconnect();
  await sim.close();
});

/** An executor as one fetcher replica builds it: its own Redis connection, the shared budgets and semaphore. */
function replica(cap = 10): AssignmentExecutor {
  const redis = createRedis({ url: testInfra().redisUrl, keyPrefix, name: "aws-prov-test" });
  connections.push(redis);
  const ex = createAssignmentExecutor({
    sources: [src],
    rateLimiter: createRateLimiter(redis, { prefix: "aws:rl:" }),
    semaphore: createRedisSemaphore(redis, { logger, retryMs: 20 }),
    logger,
    options: {
      outstandingCap: cap,
      statusPoll: { initialMs: 20, maxMs: 200 },
      conflictRetry: { initialMs: 20, maxMs: 200 },
    },
  });
  executors.push(ex);
  return ex;
}

const ic = () => sim.exportOrg().identityCenter!;

type Assignment = AccessChange & { change: { kind: "account-assignment" } };

/** The first `n` (user, permission set, active account) combinations with no assignment. */
function freeAssignments(n: number): Assignment[] {
  const doc = ic();
  const taken = new Set(doc.assignments.map((a) => `${a.accountId}|${a.permissionSetArn}|${a.principalId}`));
  const accounts = sim.exportOrg().accounts.filter((a) => a.status === "ACTIVE");
  const out: Assignment[] = [];
  for (const u of doc.users)
    for (const ps of doc.permissionSets)
      for (const a of accounts) {
        if (out.length === n) return out;
        if (taken.has(`${a.id}|${ps.arn}|${u.userId}`)) continue;
        out.push({
          sourceId: src.id,
          change: {
            kind: "account-assignment",
            instanceArn: sim.instanceArn!,
            accountId: a.id,
            permissionSetArn: ps.arn,
            principalType: "USER",
            principalId: u.userId,
          },
        });
      }
  return out;
}
const assigned = ({ change: c }: Assignment): boolean =>
  ic().assignments.some(
    (a) =>
      a.accountId === c.accountId &&
      a.permissionSetArn === c.permissionSetArn &&
      a.principalId === c.principalId,
  );

describe("account assignments", () => {
  it("30 concurrent grants from two replicas never exceed the cap of outstanding operations", async () => {
    sim.setFaults({ assignmentDelay: { kind: "uniform", minMs: 100, maxMs: 400 } });
    const [a, b] = [replica(), replica()];
    const changes = freeAssignments(30);
    const out = await Promise.all(changes.map((c, i) => (i % 2 ? a : b).grant(c, ctx())));
    expect(out.every((o) => o.outcome === "succeeded" && o.requestId)).toBe(true);
    expect(changes.every(assigned)).toBe(true);
    const p = sim.provisioning()[sim.instanceArn!]!;
    expect(p.started).toBe(30);
    expect(p.peakOutstanding).toBeLessThanOrEqual(10);
    // Without the semaphore all 30 start at once (AWS would refuse 15 of them).
    expect(p.peakOutstanding).toBeGreaterThan(5);
    expect(p.refusedOverCap).toBe(0);
    // Idempotent: granting an existing assignment succeeds again; revoking twice succeeds twice.
    expect(await a.grant(changes[0]!, ctx())).toMatchObject({ outcome: "succeeded" });
    expect(await a.revoke(changes[0]!, ctx())).toMatchObject({ outcome: "succeeded" });
    expect(await a.revoke(changes[0]!, ctx())).toMatchObject({ outcome: "succeeded" });
    expect(assigned(changes[0]!)).toBe(false);
  });

  it("retries ConflictException while a previous operation on the same assignment propagates", async () => {
    sim.setFaults({ assignmentDelayMs: 300 });
    const ex = replica();
    const [c] = freeAssignments(1);
    const grant = ex.grant(c!, ctx());
    await waitFor(() => sim.provisioning()[sim.instanceArn!]!.outstanding === 1);
    const revoke = ex.revoke(c!, ctx());
    expect(await grant).toMatchObject({ outcome: "succeeded" });
    expect(await revoke).toMatchObject({ outcome: "succeeded" });
    expect(sim.provisioning()[sim.instanceArn!]!.conflicts).toBeGreaterThan(0);
    expect(assigned(c!)).toBe(false);
  });

  it("returns a FAILED status's reason verbatim", async () => {
    sim.setFaults({ assignmentDelayMs: 50 });
    const [c] = freeAssignments(1);
    const ghost = { ...c!, change: { ...c!.change, principalId: "90000000-aaaa-bbbb-cccc-000000000000" } };
    const out = await replica().grant(ghost, ctx());
    expect(out).toMatchObject({
      outcome: "failed",
      code: "FAILED",
      reason: `Received a 404 status error: No user with id ${ghost.change.principalId} exists.`,
    });
  });

  it("keeps under an AWS cap lower than its own, retrying AWS's ThrottlingException", async () => {
    sim.setFaults({ assignmentDelay: { kind: "fixed", ms: 100 }, assignmentOutstandingCap: 2 });
    const ex = replica(10);
    const out = await Promise.all(freeAssignments(6).map((c) => ex.grant(c, ctx())));
    expect(out.every((o) => o.outcome === "succeeded")).toBe(true);
    expect(sim.provisioning()[sim.instanceArn!]!.peakOutstanding).toBeLessThanOrEqual(2);
  });

  it("refuses a change for a source it does not serve", async () => {
    const [c] = freeAssignments(1);
    await expect(replica().grant({ ...c!, sourceId: "nope" }, ctx())).rejects.toBeInstanceOf(PermanentError);
  });
});

describe("memberships", () => {
  it("Identity Store: grant and revoke are idempotent; an unknown group fails with AWS's reason", async () => {
    const ex = replica();
    const doc = ic();
    const g = doc.groups[0]!;
    const member = new Set(doc.memberships.filter((m) => m.groupId === g.groupId).map((m) => m.userId));
    const u = doc.users.find((x) => !member.has(x.userId))!;
    const change = {
      sourceId: src.id,
      change: {
        kind: "group-membership",
        identityStoreId: sim.identityStoreId!,
        groupId: g.groupId,
        userId: u.userId,
        membershipId: null,
      },
    } satisfies AccessChange;
    expect(await ex.grant(change, ctx())).toEqual({ outcome: "succeeded" });
    expect(await ex.grant(change, ctx())).toMatchObject({ outcome: "succeeded", note: /already a member/ });
    expect(ic().memberships.some((m) => m.groupId === g.groupId && m.userId === u.userId)).toBe(true);
    expect(await ex.revoke(change, ctx())).toEqual({ outcome: "succeeded" });
    expect(await ex.revoke(change, ctx())).toMatchObject({ outcome: "succeeded", note: /not a member/ });
    const noGroup = { ...change.change, groupId: "00000000-0000-0000-0000-000000000000" };
    const bad = await ex.grant({ ...change, change: noGroup }, ctx());
    expect(bad).toMatchObject({
      outcome: "failed",
      code: "ResourceNotFoundException",
      reason: "GROUP not found.",
    });
  });

  it("IAM: in the member account, through the cross-account role; revoking a non-member succeeds", async () => {
    const ex = replica();
    const acct = sim
      .exportOrg()
      .accounts.find((a) => a.id !== sim.managementAccountId && a.status === "ACTIVE")!;
    const group = acct.iam.groups[0]!.name;
    const user = acct.iam.users.find((x) => !x.groups.includes(group))!.name;
    const change = {
      sourceId: src.id,
      change: { kind: "iam-group-membership", accountId: acct.id, groupName: group, userName: user },
    } satisfies AccessChange;
    const groupsOf = () =>
      sim
        .exportOrg()
        .accounts.find((a) => a.id === acct.id)!
        .iam.users.find((x) => x.name === user)!.groups;
    expect(await ex.grant(change, ctx())).toEqual({ outcome: "succeeded" });
    expect(groupsOf()).toContain(group);
    expect(sim.trail(acct.id).some((e) => e.eventName === "AddUserToGroup")).toBe(true);
    expect(await ex.revoke(change, ctx())).toEqual({ outcome: "succeeded" });
    expect(await ex.revoke(change, ctx())).toMatchObject({ outcome: "succeeded", note: /not a member/ });
    expect(groupsOf()).not.toContain(group);
    const bad = await ex.grant({ ...change, change: { ...change.change, userName: "no-such-user" } }, ctx());
    expect(bad).toMatchObject({ outcome: "failed", code: "NoSuchEntity" });
  });
});
