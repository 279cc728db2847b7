import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsSim, type AwsSim } from "@grantline/aws-sim";
import type { SyncReply } from "@grantline/contracts";
import { diffRows, expectedRows, type ExpectedRows } from "./ground-truth.ts";
import { createPipeline, readEvents, simSource, type Pipeline } from "./pipeline-harness.ts";

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

async function syncAndWait(): Promise<string> {
  const r = await p.request<SyncReply>("sync", { sourceId: "acme" });
  if (!r.ok) throw new Error(r.error);
  expect(await p.waitForRun(r.runId, 120_000)).toBe("succeeded");
  return r.runId;
}

async function actualRows() {
  const [resources, entitlements, grants] = await Promise.all([
    p.db
      .selectFrom("resources")
      .select(["type", "id", "name", "parent_type", "parent_id"])
      .where("source_id", "=", "acme")
      .where("deleted_at", "is", null)
      .execute(),
    p.db
      .selectFrom("entitlements")
      .select("id")
      .where("source_id", "=", "acme")
      .where("deleted_at", "is", null)
      .execute(),
    p.db
      .selectFrom("grants")
      .select("id")
      .where("source_id", "=", "acme")
      .where("revoked_at", "is", null)
      .execute(),
  ]);
  return { resources, entitlements, grants };
}

function expectedEventKeys(before: ExpectedRows, after: ExpectedRows): string[] {
  const out: string[] = [];
  for (const k of after.resources.keys()) if (!before.resources.has(k)) out.push(`resource.created ${k}`);
  for (const k of before.resources.keys()) if (!after.resources.has(k)) out.push(`resource.deleted ${k}`);
  for (const [k, v] of after.resources) {
    const b = before.resources.get(k);
    if (b && (b.name !== v.name || b.parent !== v.parent)) out.push(`resource.updated ${k}`);
  }
  for (const g of after.grants) if (!before.grants.has(g)) out.push(`grant.created ${g}`);
  for (const g of before.grants) if (!after.grants.has(g)) out.push(`grant.revoked ${g}`);
  return out.sort();
}

describe("full sync of Identity Center and Organizations", () => {
  let before: ExpectedRows;

  it("the first run brings Postgres to exactly aws-sim's ground truth, as an initial load", async () => {
    const runId = await syncAndWait();
    before = expectedRows(sim.exportOrg());
    expect(diffRows(before, await actualRows())).toEqual([]);
    const events = await readEvents(p, runId);
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.grantlineinitialload)).toBe(true);
    const created = events.filter((e) => e.type === "dev.grantline.grant.created").length;
    expect(created).toBe(before.grants.size);
  });

  it("a second run sees no change, emits no change events, and never re-describes a permission set (cache)", async () => {
    sim.resetCounters();
    const runId = await syncAndWait();
    expect(diffRows(before, await actualRows())).toEqual([]);
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

    const runId = await syncAndWait();
    expect(diffRows(after, await actualRows())).toEqual([]);
    const events = await readEvents(p, runId);
    const got = events
      .filter((e) => !e.type.startsWith("dev.grantline.run."))
      .map((e) => {
        const d = e.data;
        const what = e.type.replace("dev.grantline.", "");
        return what.startsWith("grant.")
          ? `${what} ${String(d.grantId)}`
          : `${what} ${String(d.resourceType)}/${String(d.resourceId)}`;
      })
      .sort();
    expect(got).toEqual(expectedEventKeys(before, after));
    expect(events.every((e) => !e.grantlineinitialload)).toBe(true);
  });
});
