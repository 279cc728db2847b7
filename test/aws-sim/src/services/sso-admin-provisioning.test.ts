import { AddUserToGroupCommand, RemoveUserFromGroupCommand } from "@aws-sdk/client-iam";
import {
  CreateGroupMembershipCommand,
  DeleteGroupMembershipCommand,
  GetGroupMembershipIdCommand,
} from "@aws-sdk/client-identitystore";
import {
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  ListAccountAssignmentsCommand,
} from "@aws-sdk/client-sso-admin";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startAwsSim } from "../sim.ts";
import type { AwsSim } from "../sim.ts";
import { clients, waitFor } from "../test-support.ts";

let sim: AwsSim;
beforeEach(async () => {
  sim = await startAwsSim({ preset: "small", seed: 5 });
});
afterEach(async () => {
  await sim.close();
});
// One attempt per call: the SDK would otherwise retry the simulator's ThrottlingException itself.
const c = () => clients(sim, sim.managementCredentials, 1);
const ic = () => sim.exportOrg().identityCenter!;

/** A (user, permission set, account) with no assignment yet: the org's n-th free combination. */
function freeAssignment(n: number) {
  const doc = ic();
  const taken = new Set(doc.assignments.map((a) => `${a.accountId}|${a.permissionSetArn}|${a.principalId}`));
  const accounts = sim.exportOrg().accounts.filter((a) => a.status === "ACTIVE");
  let i = 0;
  for (const u of doc.users)
    for (const ps of doc.permissionSets)
      for (const a of accounts) {
        if (taken.has(`${a.id}|${ps.arn}|${u.userId}`)) continue;
        if (i++ === n)
          return {
            InstanceArn: sim.instanceArn!,
            TargetId: a.id,
            TargetType: "AWS_ACCOUNT" as const,
            PermissionSetArn: ps.arn,
            PrincipalType: "USER" as const,
            PrincipalId: u.userId,
          };
      }
  throw new Error("no free assignment");
}

async function listed(input: ReturnType<typeof freeAssignment>): Promise<boolean> {
  const out = await c().sso.send(
    new ListAccountAssignmentsCommand({
      InstanceArn: input.InstanceArn,
      AccountId: input.TargetId,
      PermissionSetArn: input.PermissionSetArn,
    }),
  );
  return (out.AccountAssignments ?? []).some((x) => x.PrincipalId === input.PrincipalId);
}

describe("account assignment operations", () => {
  it("stay IN_PROGRESS for a seeded random time and are listed only once SUCCEEDED", async () => {
    sim.setFaults({ assignmentDelay: { kind: "uniform", minMs: 150, maxMs: 400 }, assignmentDelaySeed: 3 });
    const input = freeAssignment(0);
    const started = Date.now();
    const op = (await c().sso.send(new CreateAccountAssignmentCommand(input)))
      .AccountAssignmentCreationStatus!;
    expect(op.Status).toBe("IN_PROGRESS");
    expect(await listed(input)).toBe(false);
    const done = await waitFor(async () => {
      const s = (
        await c().sso.send(
          new DescribeAccountAssignmentCreationStatusCommand({
            InstanceArn: input.InstanceArn,
            AccountAssignmentCreationRequestId: op.RequestId,
          }),
        )
      ).AccountAssignmentCreationStatus!;
      return s.Status === "IN_PROGRESS" ? undefined : s;
    });
    expect(done.Status).toBe("SUCCEEDED");
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(await listed(input)).toBe(true);
    expect(sim.provisioning()[input.InstanceArn]).toMatchObject({ started: 1, succeeded: 1, outstanding: 0 });
  });

  it("refuse operations beyond the outstanding cap with ThrottlingException, recorded in CloudTrail", async () => {
    sim.setFaults({ assignmentDelayMs: 60_000, assignmentOutstandingCap: 3 });
    for (let i = 0; i < 3; i++) await c().sso.send(new CreateAccountAssignmentCommand(freeAssignment(i)));
    const refused = await c()
      .sso.send(new DeleteAccountAssignmentCommand(freeAssignment(3)))
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ name: "ThrottlingException", $metadata: { httpStatusCode: 429 } });
    const res = await fetch(`${sim.url}/_sim/provisioning`);
    const counters = (await res.json()) as Record<string, Record<string, number>>;
    expect(counters[sim.instanceArn!]).toMatchObject({
      outstanding: 3,
      peakOutstanding: 3,
      started: 3,
      refusedOverCap: 1,
    });
    const ev = sim.trail().filter((e) => e.eventName === "DeleteAccountAssignment");
    expect(ev).toHaveLength(1);
    expect(ev[0]!.errorCode).toBe("ThrottlingException");
    expect(() => sim.setFaults({ assignmentOutstandingCap: 0 })).toThrow(/assignmentOutstandingCap/);
    await fetch(`${sim.url}/_sim/provisioning/reset`, { method: "POST" });
    expect(sim.provisioning()[sim.instanceArn!]).toMatchObject({ peakOutstanding: 3, refusedOverCap: 0 });
  });

  it("answer ConflictException while an operation on the same assignment propagates, and count it", async () => {
    sim.setFaults({ assignmentDelay: { kind: "fixed", ms: 300 } });
    const input = freeAssignment(0);
    await c().sso.send(new CreateAccountAssignmentCommand(input));
    const e = await c()
      .sso.send(new DeleteAccountAssignmentCommand(input))
      .catch((x: unknown) => x);
    expect(e).toMatchObject({ name: "ConflictException", $metadata: { httpStatusCode: 409 } });
    expect(sim.provisioning()[input.InstanceArn]!.conflicts).toBe(1);
    expect(sim.trail().filter((x) => x.errorCode === "ConflictException")).toHaveLength(1);
    // Once the create has propagated, the delete is accepted.
    const del = await waitFor(() =>
      c()
        .sso.send(new DeleteAccountAssignmentCommand(input))
        .then(
          (o) => o.AccountAssignmentDeletionStatus,
          () => undefined,
        ),
    );
    expect(del.Status).toBe("IN_PROGRESS");
  });
});

describe("membership writes", () => {
  it("Identity Store CreateGroupMembership / DeleteGroupMembership with their errors", async () => {
    const doc = ic();
    const IdentityStoreId = sim.identityStoreId!;
    const member = new Set(doc.memberships.map((m) => `${m.groupId}|${m.userId}`));
    const g = doc.groups[0]!;
    const u = doc.users.find((x) => !member.has(`${g.groupId}|${x.userId}`))!;
    const MemberId = { UserId: u.userId };
    const created = await c().ids.send(
      new CreateGroupMembershipCommand({ IdentityStoreId, GroupId: g.groupId, MemberId }),
    );
    const again = await c()
      .ids.send(new CreateGroupMembershipCommand({ IdentityStoreId, GroupId: g.groupId, MemberId }))
      .catch((x: unknown) => x);
    expect(again).toMatchObject({ name: "ConflictException", Reason: "UNIQUENESS_CONSTRAINT_VIOLATION" });
    const id = await c().ids.send(
      new GetGroupMembershipIdCommand({ IdentityStoreId, GroupId: g.groupId, MemberId }),
    );
    expect(id.MembershipId).toBe(created.MembershipId);
    await c().ids.send(new DeleteGroupMembershipCommand({ IdentityStoreId, MembershipId: id.MembershipId }));
    const gone = await c()
      .ids.send(new DeleteGroupMembershipCommand({ IdentityStoreId, MembershipId: id.MembershipId }))
      .catch((x: unknown) => x);
    expect(gone).toMatchObject({ name: "ResourceNotFoundException" });
    const names = sim.trail().map((e) => e.eventName);
    expect(names).toContain("CreateGroupMembership");
    expect(names).toContain("DeleteGroupMembership");
  });

  it("IAM AddUserToGroup is idempotent; RemoveUserFromGroup of a non-member is NoSuchEntity", async () => {
    const mgmt = sim.exportOrg().accounts.find((a) => a.id === sim.managementAccountId)!;
    const group = mgmt.iam.groups[0]!.name;
    const user = mgmt.iam.users.find((x) => !(x.groups ?? []).includes(group))!.name;
    await c().iam.send(new AddUserToGroupCommand({ GroupName: group, UserName: user }));
    await c().iam.send(new AddUserToGroupCommand({ GroupName: group, UserName: user }));
    await c().iam.send(new RemoveUserFromGroupCommand({ GroupName: group, UserName: user }));
    const e = await c()
      .iam.send(new RemoveUserFromGroupCommand({ GroupName: group, UserName: user }))
      .catch((x: unknown) => x);
    expect(e).toMatchObject({ name: "NoSuchEntityException", $metadata: { httpStatusCode: 404 } });
    const missing = await c()
      .iam.send(new AddUserToGroupCommand({ GroupName: group, UserName: "no-such-user" }))
      .catch((x: unknown) => x);
    expect(missing).toMatchObject({ name: "NoSuchEntityException" });
  });
});
