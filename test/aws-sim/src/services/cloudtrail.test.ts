import { LookupEventsCommand, paginateLookupEvents } from "@aws-sdk/client-cloudtrail";
import { AddUserToGroupCommand } from "@aws-sdk/client-iam";
import { CreateGroupMembershipCommand } from "@aws-sdk/client-identitystore";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsSim } from "../sim.ts";
import type { AwsSim } from "../sim.ts";
import { clients, collect, waitFor } from "../test-support.ts";

let sim: AwsSim;
beforeAll(async () => {
  sim = await startAwsSim({ preset: "tiny", seed: 4 });
});
afterAll(async () => {
  await sim.close();
});

describe("CloudTrail LookupEvents", () => {
  it("records AWS writes and admin mutations with source, name, parameters and identity; newest first; 50 per page", async () => {
    const c = clients(sim);
    const acct = sim.managementAccountId;
    await c.iam.send(new AddUserToGroupCommand({ GroupName: "admins", UserName: "bob.ops" }));
    for (let i = 0; i < 60; i++) sim.mutate.createIamUser({ accountId: acct, userName: `t-${i}` });
    const truth = sim.exportOrg().identityCenter!;
    const user = truth.users.find(
      (u) => !truth.memberships.some((m) => m.userId === u.userId && m.groupId === truth.groups[0]!.groupId),
    )!;
    await c.ids.send(
      new CreateGroupMembershipCommand({
        IdentityStoreId: sim.identityStoreId!,
        GroupId: truth.groups[0]!.groupId,
        MemberId: { UserId: user.userId },
      }),
    );
    const all = await collect(paginateLookupEvents({ client: c.trail }, {}), (p) => p.Events);
    expect(all.pages).toBe(2);
    expect(all.items).toHaveLength(62);
    expect(all.items[0]!.EventName).toBe("CreateGroupMembership");
    expect(all.items[0]!.EventSource).toBe("identitystore.amazonaws.com");
    const times = all.items.map((e) => e.EventTime!.getTime());
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const add = await c.trail.send(
      new LookupEventsCommand({
        LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "AddUserToGroup" }],
      }),
    );
    expect(add.Events).toHaveLength(1);
    const rec = JSON.parse(add.Events![0]!.CloudTrailEvent!) as Record<string, unknown>;
    expect(rec).toMatchObject({
      eventSource: "iam.amazonaws.com",
      eventName: "AddUserToGroup",
      requestParameters: { groupName: "admins", userName: "bob.ops" },
      userIdentity: { type: "IAMUser", userName: "grantline-sync", accountId: acct },
      recipientAccountId: acct,
    });
    expect(add.NextToken).toBeUndefined();
    const admin = await c.trail.send(
      new LookupEventsCommand({
        LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: "t-7" }],
      }),
    );
    expect(JSON.parse(admin.Events![0]!.CloudTrailEvent!)).toMatchObject({
      eventName: "CreateUser",
      userIdentity: { type: "Root" },
    });
    const windowed = await c.trail.send(
      new LookupEventsCommand({
        StartTime: new Date(Date.now() + 60_000),
        EndTime: new Date(Date.now() + 120_000),
      }),
    );
    expect(windowed.Events).toEqual([]);
  });

  it("events become visible after the configured delivery delay", async () => {
    sim.setFaults({ cloudTrailDelayMs: 300 });
    sim.mutate.createIdentityStoreGroup({ displayName: "Delayed Group" });
    sim.setFaults({ cloudTrailDelayMs: 0 });
    const c = clients(sim);
    const q = new LookupEventsCommand({
      LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "CreateGroup" }],
    });
    expect((await c.trail.send(q)).Events).toEqual([]);
    const ev = await waitFor(async () => {
      const r = await c.trail.send(q);
      return r.Events!.length ? r.Events : undefined;
    });
    expect(ev[0]!.EventSource).toBe("identitystore.amazonaws.com");
  });

  it("pages stay stable while new events arrive; LookupEvents is limited to 2 req/s", async () => {
    const c = clients(sim, sim.managementCredentials, 1).trail;
    for (let i = 0; i < 120; i++)
      sim.mutate.createIamGroup({ accountId: sim.managementAccountId, groupName: `pg-${i}` });
    const q = { LookupAttributes: [{ AttributeKey: "EventName" as const, AttributeValue: "CreateGroup" }] };
    const p1 = await c.send(new LookupEventsCommand(q));
    for (let i = 0; i < 5; i++)
      sim.mutate.createIamGroup({ accountId: sim.managementAccountId, groupName: `late-${i}` });
    const p2 = await c.send(new LookupEventsCommand({ ...q, NextToken: p1.NextToken }));
    const p3 = await c.send(new LookupEventsCommand({ ...q, NextToken: p2.NextToken }));
    const events = [...p1.Events!, ...p2.Events!, ...p3.Events!];
    const ids = events.map((e) => e.EventId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(events.filter((e) => e.Resources?.[0]?.ResourceName?.startsWith("pg-"))).toHaveLength(120);
    expect(events.some((e) => e.Resources?.[0]?.ResourceName?.startsWith("late-"))).toBe(false);
    expect(p3.NextToken).toBeUndefined();
    const bad = await c.send(new LookupEventsCommand({ NextToken: p1.NextToken })).catch((x: unknown) => x);
    expect(bad).toMatchObject({ name: "InvalidNextTokenException" });
    sim.setFaults({ rateLimits: true });
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        c.send(new LookupEventsCommand({ MaxResults: 1 })).then(
          () => "ok",
          (e: Error) => e.name,
        ),
      ),
    );
    sim.setFaults({ rateLimits: false });
    expect(results.filter((r) => r === "ok")).toHaveLength(2);
    expect(results.filter((r) => r === "ThrottlingException")).toHaveLength(2);
  });

  it("errors: two lookup attributes, bad time range, MaxResults > 50", async () => {
    const c = clients(sim).trail;
    expect(
      await c
        .send(
          new LookupEventsCommand({
            LookupAttributes: [
              { AttributeKey: "EventName", AttributeValue: "a" },
              { AttributeKey: "Username", AttributeValue: "b" },
            ],
          }),
        )
        .catch((x: unknown) => x),
    ).toMatchObject({ name: "InvalidLookupAttributesException" });
    expect(
      await c
        .send(new LookupEventsCommand({ StartTime: new Date(2000), EndTime: new Date(1000) }))
        .catch((x: unknown) => x),
    ).toMatchObject({ name: "InvalidTimeRangeException" });
    expect(await c.send(new LookupEventsCommand({ MaxResults: 51 })).catch((x: unknown) => x)).toMatchObject({
      name: "InvalidMaxResultsException",
    });
  });
});
