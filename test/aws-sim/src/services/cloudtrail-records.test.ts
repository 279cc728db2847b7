import { CloudTrailClient, LookupEventsCommand, paginateLookupEvents } from "@aws-sdk/client-cloudtrail";
import type { Event } from "@aws-sdk/client-cloudtrail";
import { AddUserToGroupCommand, ListUsersCommand } from "@aws-sdk/client-iam";
import { ListGroupsCommand } from "@aws-sdk/client-identitystore";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsSim } from "../sim.ts";
import type { AwsSim } from "../sim.ts";
import { clients, collect, waitFor } from "../test-support.ts";

let sim: AwsSim;
beforeAll(async () => {
  sim = await startAwsSim({ preset: "tiny", seed: 21, identityCenterRegion: "eu-west-1" });
});
afterAll(async () => {
  await sim.close();
});
const trailIn = (region: string): CloudTrailClient =>
  new CloudTrailClient({
    endpoint: sim.url,
    region,
    credentials: sim.managementCredentials,
    maxAttempts: 1,
  });
const lookup = async (
  region: string,
  key: "EventName" | "ReadOnly" | "EventSource",
  value: string,
): Promise<Event[]> =>
  (
    await collect(
      paginateLookupEvents(
        { client: trailIn(region) },
        { LookupAttributes: [{ AttributeKey: key, AttributeValue: value }] },
      ),
      (p) => p.Events,
    )
  ).items;
const record = (e: Event): Record<string, unknown> =>
  JSON.parse(e.CloudTrailEvent!) as Record<string, unknown>;

describe("CloudTrail records as AWS writes them", () => {
  it("a failed write is recorded with errorCode/errorMessage inside CloudTrailEvent and changes nothing", async () => {
    const c = clients(sim);
    const err = await c.iam
      .send(new AddUserToGroupCommand({ GroupName: "admins", UserName: "nobody-here" }))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "NoSuchEntityException" });
    const [ev, ...more] = await lookup("us-east-1", "EventName", "AddUserToGroup");
    expect(more).toEqual([]);
    expect(ev!.ReadOnly).toBe("false");
    expect(ev).not.toHaveProperty("ErrorCode");
    expect(record(ev!)).toMatchObject({
      eventSource: "iam.amazonaws.com",
      errorCode: "NoSuchEntity",
      errorMessage: expect.stringContaining("nobody-here") as unknown,
      requestParameters: { groupName: "admins", userName: "nobody-here" },
      responseElements: null,
      readOnly: false,
      awsRegion: "us-east-1",
    });
    const admins = sim.exportOrg().accounts.find((a) => a.id === sim.managementAccountId)!.iam.users;
    expect(admins.some((u) => u.name === "nobody-here")).toBe(false);
  });

  it("read calls are recorded readOnly; the ReadOnly lookup attribute filters both ways; reads can be switched off", async () => {
    const c = clients(sim);
    await c.iam.send(new ListUsersCommand({ MaxItems: 5 }));
    const reads = await lookup("us-east-1", "ReadOnly", "true");
    const listUsers = reads.find((e) => e.EventName === "ListUsers");
    expect(listUsers?.ReadOnly).toBe("true");
    expect(record(listUsers!)).toMatchObject({ readOnly: true, requestParameters: { maxItems: "5" } });
    expect(reads.every((e) => e.ReadOnly === "true")).toBe(true);
    const writes = await lookup("us-east-1", "ReadOnly", "false");
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.every((e) => e.ReadOnly === "false")).toBe(true);
    // The LookupEvents calls above are themselves read events of cloudtrail.amazonaws.com.
    expect((await lookup("us-east-1", "EventSource", "cloudtrail.amazonaws.com")).length).toBeGreaterThan(0);

    sim.setFaults({ cloudTrailReadEvents: false });
    const before = sim.trail().filter((e) => e.readOnly).length;
    await c.iam.send(new ListUsersCommand({}));
    expect(sim.trail().filter((e) => e.readOnly)).toHaveLength(before);
    sim.setFaults({ cloudTrailReadEvents: true });
  });

  it("Identity Center events live in its Region, IAM and Organizations in us-east-1; lookup sees only its Region", async () => {
    const g = sim.mutate.createIdentityStoreGroup({ displayName: "Regional" });
    sim.mutate.createIamUser({ accountId: sim.managementAccountId, userName: "regional-user" });
    await clients(sim).ids.send(new ListGroupsCommand({ IdentityStoreId: sim.identityStoreId! }));
    const eu = await lookup("eu-west-1", "EventName", "CreateGroup");
    expect(eu.map((e) => e.Resources?.[0]?.ResourceName)).toEqual([g.groupId]);
    expect(record(eu[0]!)).toMatchObject({ awsRegion: "eu-west-1" });
    expect(await lookup("us-east-1", "EventName", "CreateGroup")).toEqual([]);
    expect((await lookup("us-east-1", "EventName", "CreateUser")).length).toBeGreaterThan(0);
    expect(await lookup("eu-west-1", "EventName", "CreateUser")).toEqual([]);
    expect((await lookup("eu-west-1", "EventName", "ListGroups")).length).toBe(1);
  });

  it("delays drawn from a distribution make events visible out of order; set at runtime through the admin API", async () => {
    const r = await fetch(`${sim.url}/_sim/trail-delay`, {
      method: "POST",
      body: JSON.stringify({ kind: "uniform", minMs: 0, maxMs: 600, seed: 3 }),
    });
    expect(await r.json()).toEqual({ kind: "uniform", minMs: 0, maxMs: 600, seed: 3 });
    const acct = sim.managementAccountId;
    for (let i = 0; i < 12; i++) sim.mutate.createIamGroup({ accountId: acct, groupName: `ooo-${i}` });
    sim.setFaults({ cloudTrailDelayMs: 0 });
    const made = sim
      .trail()
      .filter((e) => e.eventName === "CreateGroup" && e.eventSource === "iam.amazonaws.com");
    expect(made).toHaveLength(12);
    const order = [...made].sort((a, b) => a.visibleAt - b.visibleAt);
    expect(order.map((e) => e.eventId)).not.toEqual(made.map((e) => e.eventId));
    const q = new LookupEventsCommand({
      LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "CreateGroup" }],
    });
    const client = trailIn("us-east-1");
    // The pair (earlier event, later event) whose visibility is most inverted: between the two instants LookupEvents
    // shows the later event but not the earlier one.
    const pairs = made.flatMap((e, i) =>
      made.slice(i + 1).map((l) => ({ e, l, gap: e.visibleAt - l.visibleAt })),
    );
    const { e: early, l: late, gap } = pairs.sort((a, b) => b.gap - a.gap)[0]!;
    expect(gap).toBeGreaterThan(200);
    await waitFor(() => (Date.now() >= late.visibleAt ? true : undefined), 5000, 2);
    const mid = new Set(((await client.send(q)).Events ?? []).map((x) => x.EventId));
    expect(Date.now()).toBeLessThan(early.visibleAt);
    expect(mid.has(late.eventId)).toBe(true);
    expect(mid.has(early.eventId)).toBe(false);
    await waitFor(async () => {
      const seen = new Set(((await client.send(q)).Events ?? []).map((x) => x.EventId));
      return made.every((x) => seen.has(x.eventId)) ? true : undefined;
    });
    const trail = (await (
      await fetch(`${sim.url}/_sim/trail?accountId=${acct}&region=us-east-1`)
    ).json()) as Array<{
      eventName: string;
      visibleAt: string;
      eventTime: string;
    }>;
    expect(trail.filter((e) => e.eventName === "CreateGroup")).toHaveLength(12);
  });
});
