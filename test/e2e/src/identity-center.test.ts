import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsSim, type AwsSim } from "@grantline/aws-sim";
import { isDerivedGrant } from "@grantline/db";
import {
  changeEventKeys,
  diffRows,
  expectedEventKeys,
  expectedRows,
  type ExpectedRows,
} from "./ground-truth.ts";
import {
  createPipeline,
  readEvents,
  simSource,
  type Pipeline,
  liveRows,
  syncAndWait,
} from "./pipeline-harness.ts";

let sim: AwsSim;
let p: Pipeline;

beforeAll(async () => {
  sim = await startAwsSim({ preset: "small", seed: 7 });
  p = await createPipeline({ sources: { sources: [simSource("acme", sim)] } });
  p.startAll();
});
afterAll(async () => {
  await p?.close();
  await sim?.close();
});

describe("full sync of Identity Center and Organizations", () => {
  let before: ExpectedRows;

  it("the first run brings Postgres to exactly aws-sim's ground truth, as an initial load", async () => {
    const runId = await syncAndWait(p, "acme");
    before = expectedRows(sim.exportOrg());
    expect(diffRows(before, await liveRows(p, "acme"))).toEqual([]);
    const events = await readEvents(p, runId);
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.grantlineinitialload)).toBe(true);
    const created = events.filter(
      (e) => e.type === "dev.grantline.grant.created" && !isDerivedGrant(e.data.attrs),
    ).length;
    expect(created).toBe(before.grants.size);
  });

  it("a second run sees no change, emits no change events, and never re-describes a permission set (cache)", async () => {
    sim.resetCounters();
    const runId = await syncAndWait(p, "acme");
    expect(diffRows(before, await liveRows(p, "acme"))).toEqual([]);
    const events = await readEvents(p, runId);
    expect(events.map((e) => e.type).sort()).toEqual([
      "dev.grantline.run.completed",
      "dev.grantline.run.started",
    ]);
    expect(sim.counters().operations["sso:DescribePermissionSet"]?.calls ?? 0).toBe(0);
  });

  it("after mutations, the next run emits exactly the expected events and rows equal ground truth", async () => {
    const org = sim.exportOrg();
    const ic = org.identityCenter!;
    const user = sim.mutate.createIdentityStoreUser({
      userName: "new.user@example.com",
      displayName: "New User",
      givenName: "New",
      familyName: "User",
    }) as { userId: string };
    const group = ic.groups[0]!;
    sim.mutate.addGroupMembership({ groupId: group.groupId, userId: user.userId });
    const m = ic.memberships[0]!;
    sim.mutate.removeGroupMembership({ membershipId: m.membershipId });
    const a = ic.assignments[0]!;
    sim.mutate.deleteAccountAssignment(a);
    const ps = ic.permissionSets.find((x) => x.provisionedTo.length > 0)!;
    sim.mutate.createAccountAssignment({
      accountId: ps.provisionedTo[0]!,
      permissionSetArn: ps.arn,
      principalType: "USER",
      principalId: user.userId,
    });
    sim.mutate.createIdentityStoreGroup({ displayName: "Brand New Group" });
    const after = expectedRows(sim.exportOrg());

    const runId = await syncAndWait(p, "acme");
    expect(diffRows(after, await liveRows(p, "acme"))).toEqual([]);
    const events = await readEvents(p, runId);
    expect(changeEventKeys(events)).toEqual(expectedEventKeys(before, after));
    expect(events.every((e) => !e.grantlineinitialload)).toBe(true);
  });
});
