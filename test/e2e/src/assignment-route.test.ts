import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateOrg, startAwsSim, type AwsSim, type OrgDocument } from "@grantline/aws-sim";
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
 * A small organization trimmed to few principals (10 users + 20 groups) against 40 provisioned pairs, so the
 * principal route is the cheaper one and "auto" must switch to it once it has seen both counts.
 */
function fewPrincipals(): OrgDocument {
  const org = generateOrg("small", 11);
  const ic = org.identityCenter!;
  const kept = new Set(ic.users.slice(0, 10).map((u) => u.userId));
  ic.users = ic.users.filter((u) => kept.has(u.userId));
  ic.memberships = ic.memberships.filter((m) => kept.has(m.userId));
  ic.assignments = ic.assignments.filter((a) => a.principalType === "GROUP" || kept.has(a.principalId));
  return org;
}

let sim: AwsSim;
let p: Pipeline;

beforeAll(async () => {
  sim = await startAwsSim({ org: fewPrincipals() });
  p = await createPipeline({
    sources: {
      sources: [
        simSource("auto", sim),
        simSource("principals", sim, { assignmentRoute: "principals" }),
        simSource("pairs", sim, { assignmentRoute: "pairs" }),
      ],
    },
    // A task per pair and per group, as before the option: its path keeps an end-to-end run.
    env: { LIST_PAGES_READ_ITEMS: "false" },
  });
  p.startAll();
});
afterAll(async () => {
  await p?.close();
  await sim?.close();
});

/**
 * How many first pages of each assignment-listing operation the run made; a pair read by its permission set's
 * accounts page (a scope that page swept; none here, with the option off) counts as its pair's page.
 */
async function routeTasks(runId: string): Promise<{ pairs: number; principals: number; discovery: number }> {
  const rows = await p.db
    .selectFrom("tasks")
    .select(["operation", "page_index", "scopes_swept"])
    .where("run_id", "=", runId)
    .execute();
  const n = (op: string) => rows.filter((r) => r.operation === op && r.page_index === 0).length;
  const readWithTheirSet = rows
    .filter((r) => r.operation === "ListAccountsForProvisionedPermissionSet")
    .reduce((sum, r) => sum + r.scopes_swept, 0);
  return {
    pairs: n("ListAccountAssignments") + readWithTheirSet,
    principals: n("ListAccountAssignmentsForPrincipal"),
    discovery: n("ListAccountsForProvisionedPermissionSet"),
  };
}

describe("the assignment route (per provisioned pair or per principal)", () => {
  it("the principal route reaches the same ground truth with a call per user and group and no pair discovery", async () => {
    const runId = await syncAndWait(p, "principals");
    expect(diffRows(expectedRows(sim.exportOrg()), await liveRows(p, "principals"))).toEqual([]);
    const ic = sim.exportOrg().identityCenter!;
    expect(await routeTasks(runId)).toEqual({
      pairs: 0,
      principals: ic.users.length + ic.groups.length,
      discovery: 0,
    });
  });

  it('"auto" lists pairs on a first run, then switches to the cheaper principal route without a spurious event', async () => {
    const first = await syncAndWait(p, "auto");
    const truth = expectedRows(sim.exportOrg());
    expect(diffRows(truth, await liveRows(p, "auto"))).toEqual([]);
    const pairs = sim
      .exportOrg()
      .identityCenter!.permissionSets.reduce((n, ps) => n + ps.provisionedTo.length, 0);
    expect(await routeTasks(first)).toMatchObject({ pairs, principals: 0 });
    expect(pairs).toBeGreaterThan(30);

    const second = await syncAndWait(p, "auto");
    expect(await routeTasks(second)).toMatchObject({ pairs: 0, principals: 30, discovery: 0 });
    expect(diffRows(truth, await liveRows(p, "auto"))).toEqual([]);
    expect(changeEventKeys(await readEvents(p, second))).toEqual([]);

    // A configured route is kept whatever the counts.
    const forced = await syncAndWait(p, "pairs");
    expect(await routeTasks(forced)).toMatchObject({ pairs, principals: 0 });
  });

  it("on the principal route, assignment changes produce exactly the expected grant events", async () => {
    const before = expectedRows(sim.exportOrg());
    const ic = sim.exportOrg().identityCenter!;
    sim.mutate.deleteAccountAssignment(ic.assignments[0]!);
    const ps = ic.permissionSets.find((x) => x.provisionedTo.length > 0)!;
    const group = ic.groups.at(-1)!;
    sim.mutate.createAccountAssignment({
      accountId: ps.provisionedTo.at(-1)!,
      permissionSetArn: ps.arn,
      principalType: "GROUP",
      principalId: group.groupId,
    });
    const after = expectedRows(sim.exportOrg());
    const runId = await syncAndWait(p, "principals");
    expect(diffRows(after, await liveRows(p, "principals"))).toEqual([]);
    const got = changeEventKeys(await readEvents(p, runId));
    expect(got).toEqual(expectedEventKeys(before, after));
    expect(got.some((k) => k.startsWith("grant.revoked"))).toBe(true);
  });
});
