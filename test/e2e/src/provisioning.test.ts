import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCESS_ROLE, startAwsSim, type AwsSim } from "@grantline/aws-sim";
import type { GrantReply, GrantsReply } from "@grantline/contracts";
import { createPipeline, readEvents, simSource, syncAndWait, type Pipeline } from "./pipeline-harness.ts";
import { freeAssignment, provision } from "./provisioning-targets.ts";

// `grantline grant|revoke` against aws-sim with asynchronous assignments (0.3–1.5 s IN_PROGRESS): the reply comes
// only after AWS made the change and a targeted re-read through the writer shows it, so the Postgres rows and
// the grant.* event are there when the caller hears back; the same request id again is the same request.

let sim: AwsSim;
let p: Pipeline;

beforeAll(async () => {
  sim = await startAwsSim({
    preset: "small",
    seed: 31,
    assignmentDelay: { kind: "uniform", minMs: 300, maxMs: 1500 },
  });
  p = await createPipeline({
    sources: {
      sources: [
        simSource("acme", sim, {
          iam: { enabled: true, crossAccount: true, roleName: ACCESS_ROLE, onlyAttachedPolicies: true },
        }),
      ],
    },
    env: { FEED_TICK_MS: "200" },
  });
  p.startAll();
  await syncAndWait(p, "acme");
}, 240_000);
afterAll(async () => {
  await p?.close();
  await sim?.close();
});

async function ask(verb: "grant" | "revoke", body: Record<string, unknown>): Promise<GrantReply> {
  return p.request<GrantReply>(verb, { waitSeconds: 120, ...body }, { timeoutMs: 150_000 });
}

const accepted = (verb: "grant" | "revoke", body: Record<string, unknown>) => provision(p, verb, body);

async function liveGrant(grantKey: string): Promise<boolean> {
  const id = grantKey.slice("acme/".length);
  const row = await p.db
    .selectFrom("grants")
    .select("revoked_at")
    .where("source_id", "=", "acme")
    .where("id", "=", id)
    .executeTakeFirst();
  return row !== undefined && row.revoked_at === null;
}

/** The event types about `grantKey`'s grant and request `id`, in stream order. */
async function eventsOf(grantKey: string, requestId: string): Promise<string[]> {
  const id = grantKey.slice("acme/".length);
  return (await readEvents(p))
    .filter((e) => e.data.requestId === requestId || (e.type.includes(".grant.") && e.data.grantId === id))
    .map((e) => e.type.replace("dev.grantline.", ""));
}

describe("provisioning against aws-sim", () => {
  it("an account assignment: granted, confirmed by a re-read, then revoked — rows and events match", async () => {
    const { target, has } = freeAssignment(sim);
    const before = sim.provisioning()[sim.instanceArn!]?.started ?? 0;
    const g = await accepted("grant", { id: "assign-1", target, reason: "e2e" });
    expect(g).toMatchObject({ state: "active", existing: false });
    // Confirmed means: AWS has it, Postgres has it, and the grant's event went out before the confirmation.
    expect(has()).toBe(true);
    expect(await liveGrant(g.grantKey)).toBe(true);
    expect(await eventsOf(g.grantKey, "assign-1")).toEqual([
      "provisioning.requested",
      "provisioning.executing",
      "grant.created",
      "provisioning.confirmed",
    ]);
    // The same id again is the same request: its state, no second AWS operation.
    expect(await accepted("grant", { id: "assign-1", target, reason: "e2e" })).toMatchObject({
      existing: true,
      state: "active",
    });
    expect(sim.provisioning()[sim.instanceArn!]?.started).toBe(before + 1);

    const r = await accepted("revoke", { id: "unassign-1", target });
    expect(r.state).toBe("done");
    expect(has()).toBe(false);
    expect(await liveGrant(g.grantKey)).toBe(false);
    const after = await eventsOf(g.grantKey, "unassign-1");
    expect(after.indexOf("grant.revoked")).toBeGreaterThan(-1);
    expect(after.indexOf("grant.revoked")).toBeLessThan(after.lastIndexOf("provisioning.confirmed"));
    const peak = sim.provisioning()[sim.instanceArn!]!;
    expect(peak.refusedOverCap).toBe(0);
  });

  it("an Identity Store group membership: granted and revoked, each confirmed", async () => {
    const ic = sim.exportOrg().identityCenter!;
    const member = new Set(ic.memberships.map((m) => `${m.groupId}|${m.userId}`));
    const pair = ic.groups
      .flatMap((g) => ic.users.map((u) => ({ g, u })))
      .find(({ g, u }) => !member.has(`${g.groupId}|${u.userId}`))!;
    const target = { kind: "group-membership", user: pair.u.userId, group: pair.g.groupId } as const;
    const inSim = () =>
      sim
        .exportOrg()
        .identityCenter!.memberships.some((m) => m.groupId === pair.g.groupId && m.userId === pair.u.userId);
    const g = await accepted("grant", { id: "member-1", target });
    expect(g.state).toBe("active");
    expect(inSim()).toBe(true);
    expect(await liveGrant(g.grantKey)).toBe(true);
    const r = await accepted("revoke", { id: "unmember-1", target });
    expect(r.state).toBe("done");
    expect(inSim()).toBe(false);
    expect(await liveGrant(g.grantKey)).toBe(false);
  });

  it("an IAM group membership: granted and revoked, each confirmed", async () => {
    const org = sim.exportOrg();
    const mgmt = org.accounts.find((a) => a.id === sim.managementAccountId)!;
    const pair = mgmt.iam.groups
      .flatMap((g) => mgmt.iam.users.map((u) => ({ g, u })))
      .find(({ g, u }) => !u.groups.includes(g.name))!;
    // By ARN: the same names exist in every account.
    const arn = (type: string, path: string, name: string) => `arn:aws:iam::${mgmt.id}:${type}${path}${name}`;
    const target = {
      kind: "iam-group-membership",
      user: arn("user", pair.u.path, pair.u.name),
      group: arn("group", pair.g.path, pair.g.name),
    } as const;
    const inSim = () =>
      sim
        .exportOrg()
        .accounts.find((a) => a.id === sim.managementAccountId)!
        .iam.users.find((u) => u.name === pair.u.name)!
        .groups.includes(pair.g.name);
    const g = await accepted("grant", { id: "iam-1", target });
    expect(g.state).toBe("active");
    expect(inSim()).toBe(true);
    expect(await liveGrant(g.grantKey)).toBe(true);
    const r = await accepted("revoke", { id: "un-iam-1", target });
    expect(r.state).toBe("done");
    expect(inSim()).toBe(false);
    expect(await liveGrant(g.grantKey)).toBe(false);
  });

  it("refusals are clear replies and nothing reaches AWS", async () => {
    const { target } = freeAssignment(sim);
    const before = sim.provisioning()[sim.instanceArn!]?.started ?? 0;
    expect(await ask("grant", { id: "bad-1", target: { ...target, principal: "nobody" } })).toMatchObject({
      ok: false,
      refusal: "unknown-principal",
    });
    expect(
      await ask("grant", { id: "bad-2", target: { ...target, permissionSet: "NoSuchSet" } }),
    ).toMatchObject({ ok: false, refusal: "unknown-permission-set" });
    const dry = await accepted("grant", { id: "dry-1", target, dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, state: "accepted" });
    expect(dry.changes.length).toBe(1);
    expect(sim.provisioning()[sim.instanceArn!]?.started ?? 0).toBe(before);
    const list = await p.request<GrantsReply>("grants", { all: true });
    expect(list.ok && list.requests.map((r) => r.id)).not.toContain("dry-1");
  });
});
