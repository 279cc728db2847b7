import {
  CreateGroupMembershipCommand,
  DeleteGroupMembershipCommand,
  DescribeGroupCommand,
  DescribeUserCommand,
  GetGroupMembershipIdCommand,
  ListUsersCommand,
  paginateListGroupMemberships,
  paginateListGroupMembershipsForMember,
  paginateListGroups,
  paginateListUsers,
} from "@aws-sdk/client-identitystore";
import { LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsSim } from "../sim.ts";
import type { AwsSim } from "../sim.ts";
import { clients, collect } from "../test-support.ts";

let sim: AwsSim;
let IdentityStoreId: string;
beforeAll(async () => {
  sim = await startAwsSim({ preset: "small", seed: 2 });
  IdentityStoreId = sim.identityStoreId!;
});
afterAll(async () => {
  await sim.close();
});
const ids = () => clients(sim).ids;
const ic = () => sim.exportOrg().identityCenter!;

describe("Identity Store conformance", () => {
  it("ListUsers / ListGroups paginate (max 100) and Describe* return top-level fields", async () => {
    const users = await collect(
      paginateListUsers({ client: ids(), pageSize: 30 }, { IdentityStoreId }),
      (p) => p.Users,
    );
    expect(users.pages).toBe(4);
    expect(users.items.map((u) => u.UserId)).toEqual(ic().users.map((u) => u.userId));
    expect(users.items[0]!.UserId).toMatch(
      /^[0-9a-f]{10}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    const groups = await collect(
      paginateListGroups({ client: ids(), pageSize: 7 }, { IdentityStoreId }),
      (p) => p.Groups,
    );
    expect(groups.items.map((g) => g.DisplayName)).toEqual(ic().groups.map((g) => g.displayName));
    const u = ic().users[3]!;
    const d = await ids().send(new DescribeUserCommand({ IdentityStoreId, UserId: u.userId }));
    expect(d).toMatchObject({
      UserId: u.userId,
      UserName: u.userName,
      DisplayName: u.displayName,
      IdentityStoreId,
    });
    const g = ic().groups[1]!;
    expect(await ids().send(new DescribeGroupCommand({ IdentityStoreId, GroupId: g.groupId }))).toMatchObject(
      { GroupId: g.groupId, DisplayName: g.displayName },
    );
    const f = await ids().send(
      new ListUsersCommand({
        IdentityStoreId,
        Filters: [{ AttributePath: "UserName", AttributeValue: u.userName }],
      }),
    );
    expect(f.Users!.map((x) => x.UserId)).toEqual([u.userId]);
  });

  it("memberships by group and by member equal the ground truth", async () => {
    const truth = ic();
    let total = 0;
    for (const g of truth.groups) {
      const r = await collect(
        paginateListGroupMemberships({ client: ids() }, { IdentityStoreId, GroupId: g.groupId }),
        (p) => p.GroupMemberships,
      );
      total += r.items.length;
      expect(
        r.items.map((m) => (m.MemberId && "UserId" in m.MemberId ? m.MemberId.UserId : "")).sort(),
      ).toEqual(
        truth.memberships
          .filter((m) => m.groupId === g.groupId)
          .map((m) => m.userId)
          .sort(),
      );
    }
    expect(total).toBe(truth.memberships.length);
    const biggest = truth.groups[0]!;
    const big = await collect(
      paginateListGroupMemberships(
        { client: ids(), pageSize: 10 },
        { IdentityStoreId, GroupId: biggest.groupId },
      ),
      (p) => p.GroupMemberships,
    );
    expect(big.pages).toBeGreaterThan(2);
    const m = truth.memberships[0]!;
    const forMember = await collect(
      paginateListGroupMembershipsForMember(
        { client: ids() },
        { IdentityStoreId, MemberId: { UserId: m.userId } },
      ),
      (p) => p.GroupMemberships,
    );
    expect(forMember.items.map((x) => x.GroupId)).toContain(m.groupId);
    expect(truth.users.some((u) => !truth.memberships.some((x) => x.userId === u.userId))).toBe(true);
  });

  it("Create/Get/DeleteGroupMembership; ConflictException on duplicates", async () => {
    const truth = ic();
    const user = truth.users.find((u) => !truth.memberships.some((x) => x.userId === u.userId))!;
    const group = truth.groups[2]!;
    const c = await ids().send(
      new CreateGroupMembershipCommand({
        IdentityStoreId,
        GroupId: group.groupId,
        MemberId: { UserId: user.userId },
      }),
    );
    expect(c.MembershipId).toBeTruthy();
    const g = await ids().send(
      new GetGroupMembershipIdCommand({
        IdentityStoreId,
        GroupId: group.groupId,
        MemberId: { UserId: user.userId },
      }),
    );
    expect(g.MembershipId).toBe(c.MembershipId);
    const dup = await ids()
      .send(
        new CreateGroupMembershipCommand({
          IdentityStoreId,
          GroupId: group.groupId,
          MemberId: { UserId: user.userId },
        }),
      )
      .catch((x: unknown) => x);
    expect(dup).toMatchObject({ name: "ConflictException", $metadata: { httpStatusCode: 409 } });
    expect(ic().memberships.some((m) => m.membershipId === c.MembershipId)).toBe(true);
    await ids().send(new DeleteGroupMembershipCommand({ IdentityStoreId, MembershipId: c.MembershipId }));
    expect(ic().memberships.some((m) => m.membershipId === c.MembershipId)).toBe(false);
    const gone = await ids()
      .send(
        new GetGroupMembershipIdCommand({
          IdentityStoreId,
          GroupId: group.groupId,
          MemberId: { UserId: user.userId },
        }),
      )
      .catch((x: unknown) => x);
    expect(gone).toMatchObject({ name: "ResourceNotFoundException", ResourceType: "GROUP_MEMBERSHIP" });
  });

  it("errors: ResourceNotFoundException with ResourceType, ValidationException", async () => {
    const e = await ids()
      .send(
        new DescribeUserCommand({
          IdentityStoreId,
          UserId: "0000000000-00000000-0000-4000-a000-000000000000",
        }),
      )
      .catch((x: unknown) => x);
    expect(e).toMatchObject({
      name: "ResourceNotFoundException",
      ResourceType: "USER",
      $metadata: { httpStatusCode: 404 },
    });
    const e2 = await ids()
      .send(new ListUsersCommand({ IdentityStoreId, MaxResults: 101 }))
      .catch((x: unknown) => x);
    expect(e2).toMatchObject({ name: "ValidationException", $metadata: { httpStatusCode: 400 } });
    const e3 = await ids()
      .send(new ListUsersCommand({ IdentityStoreId: "d-0000000000" }))
      .catch((x: unknown) => x);
    expect(e3).toMatchObject({ name: "ResourceNotFoundException" });
  });

  it("UserStatus mirrors active; disable/enable mutations flip it and are in CloudTrail", async () => {
    // The installed @aws-sdk/client-identitystore (3.1138) models UserStatus, so the SDK round-trips it.
    const truth = ic().users;
    const inactive = truth.find((u) => !u.active)!;
    const target = truth.find((u) => u.active)!;
    const all = await collect(paginateListUsers({ client: ids() }, { IdentityStoreId }), (p) => p.Users);
    const byId = new Map(all.items.map((u) => [u.UserId, u.UserStatus]));
    expect(byId.get(inactive.userId)).toBe("DISABLED");
    expect(byId.get(target.userId)).toBe("ENABLED");
    expect(all.items.every((u) => u.UserStatus === "ENABLED" || u.UserStatus === "DISABLED")).toBe(true);

    sim.mutate.disableIdentityStoreUser({ userId: target.userId });
    const d = await ids().send(new DescribeUserCommand({ IdentityStoreId, UserId: target.userId }));
    expect(d.UserStatus).toBe("DISABLED");
    expect(ic().users.find((u) => u.userId === target.userId)!.active).toBe(false);
    const listed = await ids().send(
      new ListUsersCommand({
        IdentityStoreId,
        Filters: [{ AttributePath: "UserName", AttributeValue: target.userName }],
      }),
    );
    expect(listed.Users!.map((u) => u.UserStatus)).toEqual(["DISABLED"]);
    sim.mutate.enableIdentityStoreUser({ userId: target.userId });
    const e = await ids().send(new DescribeUserCommand({ IdentityStoreId, UserId: target.userId }));
    expect(e.UserStatus).toBe("ENABLED");
    const trail = await clients(sim).trail.send(
      new LookupEventsCommand({
        LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: target.userId }],
      }),
    );
    expect(trail.Events!.map((x) => x.EventName)).toEqual(["UpdateUser", "UpdateUser"]);
    expect(() => sim.mutate.disableIdentityStoreUser({ userId: "0000000000-nope" })).toThrow(
      /USER not found/,
    );
  });
});
