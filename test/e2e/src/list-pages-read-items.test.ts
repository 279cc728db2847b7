import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsSim, type AwsSim } from "@grantline/aws-sim";
import { changeEventKeys, diffRows, expectedEventKeys, expectedRows } from "./ground-truth.ts";
import {
  createPipeline,
  liveRows,
  readEvents,
  simSource,
  syncAndWait,
  type Pipeline,
} from "./pipeline-harness.ts";

/**
 * The fetcher's LIST_PAGES_READ_ITEMS (on by default): a permission set's accounts page reads its pairs'
 * assignments and a groups page its groups' members. The same rows and events as a task per pair and per group
 * (assignment-route.test.ts runs with it off), with those tasks gone.
 */
let sim: AwsSim;
let p: Pipeline;

beforeAll(async () => {
  sim = await startAwsSim({ preset: "small" });
  p = await createPipeline({
    sources: { sources: [simSource("items", sim, { assignmentRoute: "pairs" })] },
  });
  p.startAll();
});
afterAll(async () => {
  await p?.close();
  await sim?.close();
});

async function tasksOf(runId: string): Promise<Array<{ operation: string; scopes_swept: number }>> {
  return p.db.selectFrom("tasks").select(["operation", "scopes_swept"]).where("run_id", "=", runId).execute();
}

describe("list pages that read their items (LIST_PAGES_READ_ITEMS, the default)", () => {
  it("reaches the ground truth with no task per pair or group, and counts the pairs it read", async () => {
    const runId = await syncAndWait(p, "items");
    const org = sim.exportOrg();
    expect(diffRows(expectedRows(org), await liveRows(p, "items"))).toEqual([]);
    const tasks = await tasksOf(runId);
    const ic = org.identityCenter!;
    const pairs = ic.permissionSets.reduce((n, ps) => n + ps.provisionedTo.length, 0);
    expect(tasks.filter((t) => t.operation === "ListAccountAssignments")).toEqual([]);
    const swept = tasks
      .filter((t) => t.operation === "ListAccountsForProvisionedPermissionSet")
      .reduce((n, t) => n + t.scopes_swept, 0);
    expect(swept).toBe(pairs);
    // Groups with more members than a page read theirs as a chain of their own; the others come with the list.
    const own = tasks.filter((t) => t.operation === "ListGroupMemberships").length;
    expect(own).toBeLessThan(ic.groups.length);
    const run = await p.db
      .selectFrom("runs")
      .select("stats")
      .where("id", "=", runId)
      .executeTakeFirstOrThrow();
    expect((run.stats as { assignmentPairs?: number }).assignmentPairs).toBe(pairs);
  });

  it("revokes a removed assignment and a removed membership with exactly the expected events", async () => {
    const before = expectedRows(sim.exportOrg());
    const ic = sim.exportOrg().identityCenter!;
    sim.mutate.deleteAccountAssignment(ic.assignments[0]!);
    const m = ic.memberships[0]!;
    sim.mutate.removeGroupMembership({ groupId: m.groupId, userId: m.userId });
    const after = expectedRows(sim.exportOrg());
    const runId = await syncAndWait(p, "items");
    expect(diffRows(after, await liveRows(p, "items"))).toEqual([]);
    const got = changeEventKeys(await readEvents(p, runId));
    expect(got).toEqual(expectedEventKeys(before, after));
    expect(got.filter((k) => k.startsWith("grant.revoked")).length).toBeGreaterThanOrEqual(2);
  });
});
