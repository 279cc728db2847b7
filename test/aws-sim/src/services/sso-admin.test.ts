import {
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  DescribePermissionSetCommand,
  GetInlinePolicyForPermissionSetCommand,
  ListAccountAssignmentsCommand,
  ListInstancesCommand,
  ListPermissionSetsCommand,
  paginateListAccountAssignments,
  paginateListAccountAssignmentsForPrincipal,
  paginateListAccountsForProvisionedPermissionSet,
  paginateListCustomerManagedPolicyReferencesInPermissionSet,
  paginateListManagedPoliciesInPermissionSet,
  paginateListPermissionSets,
  paginateListPermissionSetsProvisionedToAccount,
} from "@aws-sdk/client-sso-admin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsSim } from "../sim.ts";
import type { AwsSim } from "../sim.ts";
import { clients, collect, waitFor } from "../test-support.ts";

let sim: AwsSim;
let InstanceArn: string;
beforeAll(async () => {
  sim = await startAwsSim({ preset: "small", seed: 11, assignmentDelayMs: 30 });
  InstanceArn = sim.instanceArn!;
});
afterAll(async () => {
  await sim.close();
});
const sso = () => clients(sim).sso;
const ic = () => sim.exportOrg().identityCenter!;

describe("SSO Admin conformance", () => {
  it("ListInstances and permission sets", async () => {
    const inst = (await sso().send(new ListInstancesCommand({}))).Instances!;
    expect(inst).toHaveLength(1);
    expect(inst[0]!.InstanceArn).toMatch(/^arn:aws:sso:::instance\/ssoins-[0-9a-f]{16}$/);
    expect(inst[0]!.IdentityStoreId).toMatch(/^d-[0-9a-f]{10}$/);
    const { items, pages } = await collect(
      paginateListPermissionSets({ client: sso(), pageSize: 3 }, { InstanceArn }),
      (p) => p.PermissionSets,
    );
    expect(items).toEqual(ic().permissionSets.map((p) => p.arn));
    expect(pages).toBe(4);
    const ps = ic().permissionSets.find((p) => p.inlinePolicy)!;
    const d = (await sso().send(new DescribePermissionSetCommand({ InstanceArn, PermissionSetArn: ps.arn })))
      .PermissionSet!;
    expect(d).toMatchObject({ Name: ps.name, PermissionSetArn: ps.arn, SessionDuration: ps.sessionDuration });
    expect(d.CreatedDate).toBeInstanceOf(Date);
    expect(
      (
        await sso().send(
          new GetInlinePolicyForPermissionSetCommand({ InstanceArn, PermissionSetArn: ps.arn }),
        )
      ).InlinePolicy,
    ).toBe(ps.inlinePolicy);
    for (const p of ic().permissionSets) {
      const mp = await collect(
        paginateListManagedPoliciesInPermissionSet(
          { client: sso() },
          { InstanceArn, PermissionSetArn: p.arn },
        ),
        (x) => x.AttachedManagedPolicies,
      );
      expect(mp.items.map((x) => x.Arn)).toEqual(p.managedPolicies);
      const cm = await collect(
        paginateListCustomerManagedPolicyReferencesInPermissionSet(
          { client: sso() },
          { InstanceArn, PermissionSetArn: p.arn },
        ),
        (x) => x.CustomerManagedPolicyReferences,
      );
      expect(cm.items).toEqual(
        p.customerManagedPolicyReferences.map((r) => ({ Name: r.name, Path: r.path })),
      );
    }
  });

  it("provisioned pairs and assignments match the ground truth (both routes)", async () => {
    const truth = ic();
    const pairs: Array<[string, string]> = [];
    for (const p of truth.permissionSets) {
      const accts = await collect(
        paginateListAccountsForProvisionedPermissionSet(
          { client: sso(), pageSize: 2 },
          { InstanceArn, PermissionSetArn: p.arn },
        ),
        (x) => x.AccountIds,
      );
      expect(accts.items.sort()).toEqual([...p.provisionedTo].sort());
      for (const a of accts.items) pairs.push([a, p.arn]);
    }
    const acct = truth.permissionSets[0]!.provisionedTo[0]!;
    const psForAcct = await collect(
      paginateListPermissionSetsProvisionedToAccount({ client: sso() }, { InstanceArn, AccountId: acct }),
      (x) => x.PermissionSets,
    );
    expect(psForAcct.items.sort()).toEqual(
      truth.permissionSets
        .filter((p) => p.provisionedTo.includes(acct))
        .map((p) => p.arn)
        .sort(),
    );
    const got: string[] = [];
    for (const [a, p] of pairs) {
      const r = await collect(
        paginateListAccountAssignments(
          { client: sso(), pageSize: 1 },
          { InstanceArn, AccountId: a, PermissionSetArn: p },
        ),
        (x) => x.AccountAssignments,
      );
      for (const x of r.items)
        got.push(`${x.AccountId}|${x.PermissionSetArn}|${x.PrincipalType}|${x.PrincipalId}`);
    }
    const want = truth.assignments.map(
      (x) => `${x.accountId}|${x.permissionSetArn}|${x.principalType}|${x.principalId}`,
    );
    expect(got.sort()).toEqual(want.sort());
    const principal = truth.assignments[0]!;
    const fp = await collect(
      paginateListAccountAssignmentsForPrincipal(
        { client: sso(), pageSize: 1 },
        { InstanceArn, PrincipalId: principal.principalId, PrincipalType: principal.principalType },
      ),
      (x) => x.AccountAssignments,
    );
    expect(fp.items.length).toBe(
      truth.assignments.filter((x) => x.principalId === principal.principalId).length,
    );
  });

  it("Create/DeleteAccountAssignment are asynchronous: IN_PROGRESS then SUCCEEDED or FAILED", async () => {
    const truth = ic();
    const ps = truth.permissionSets[1]!;
    const acct = sim.exportOrg().accounts.find((a) => !ps.provisionedTo.includes(a.id))!.id;
    const user = truth.users[5]!.userId;
    const input = {
      InstanceArn,
      TargetId: acct,
      TargetType: "AWS_ACCOUNT" as const,
      PermissionSetArn: ps.arn,
      PrincipalType: "USER" as const,
      PrincipalId: user,
    };
    const created = (await sso().send(new CreateAccountAssignmentCommand(input)))
      .AccountAssignmentCreationStatus!;
    expect(created.Status).toBe("IN_PROGRESS");
    expect(created.RequestId).toMatch(/^[0-9a-f-]{36}$/);
    const done = await waitFor(async () => {
      const s = (
        await sso().send(
          new DescribeAccountAssignmentCreationStatusCommand({
            InstanceArn,
            AccountAssignmentCreationRequestId: created.RequestId,
          }),
        )
      ).AccountAssignmentCreationStatus!;
      return s.Status === "IN_PROGRESS" ? undefined : s;
    });
    expect(done.Status).toBe("SUCCEEDED");
    expect(ic().permissionSets.find((p) => p.arn === ps.arn)!.provisionedTo).toContain(acct);
    const list = await sso().send(
      new ListAccountAssignmentsCommand({ InstanceArn, AccountId: acct, PermissionSetArn: ps.arn }),
    );
    expect(list.AccountAssignments).toEqual([
      { AccountId: acct, PermissionSetArn: ps.arn, PrincipalType: "USER", PrincipalId: user },
    ]);
    const del = (await sso().send(new DeleteAccountAssignmentCommand(input)))
      .AccountAssignmentDeletionStatus!;
    expect(del.Status).toBe("IN_PROGRESS");
    const delDone = await waitFor(async () => {
      const s = (
        await sso().send(
          new DescribeAccountAssignmentDeletionStatusCommand({
            InstanceArn,
            AccountAssignmentDeletionRequestId: del.RequestId,
          }),
        )
      ).AccountAssignmentDeletionStatus!;
      return s.Status === "IN_PROGRESS" ? undefined : s;
    });
    expect(delDone.Status).toBe("SUCCEEDED");
    expect(
      (
        await sso().send(
          new ListAccountAssignmentsCommand({ InstanceArn, AccountId: acct, PermissionSetArn: ps.arn }),
        )
      ).AccountAssignments,
    ).toEqual([]);
    const bad = (
      await sso().send(
        new CreateAccountAssignmentCommand({
          ...input,
          PrincipalId: "0000000000-00000000-0000-4000-a000-000000000000",
        }),
      )
    ).AccountAssignmentCreationStatus!;
    const failed = await waitFor(async () => {
      const s = (
        await sso().send(
          new DescribeAccountAssignmentCreationStatusCommand({
            InstanceArn,
            AccountAssignmentCreationRequestId: bad.RequestId,
          }),
        )
      ).AccountAssignmentCreationStatus!;
      return s.Status === "IN_PROGRESS" ? undefined : s;
    });
    expect(failed.Status).toBe("FAILED");
    expect(failed.FailureReason).toBeTruthy();
  });

  it("ConflictException while an operation on the same assignment is in progress", async () => {
    sim.setFaults({ assignmentDelayMs: 60_000 });
    const truth = ic();
    const a = truth.assignments[0]!;
    const input = {
      InstanceArn,
      TargetId: a.accountId,
      TargetType: "AWS_ACCOUNT" as const,
      PermissionSetArn: a.permissionSetArn,
      PrincipalType: a.principalType,
      PrincipalId: a.principalId,
    };
    const first = (await sso().send(new DeleteAccountAssignmentCommand(input)))
      .AccountAssignmentDeletionStatus!;
    const e = await sso()
      .send(new DeleteAccountAssignmentCommand(input))
      .catch((x: unknown) => x);
    expect(e).toMatchObject({ name: "ConflictException", $metadata: { httpStatusCode: 409 } });
    const s = await sso().send(
      new DescribeAccountAssignmentDeletionStatusCommand({
        InstanceArn,
        AccountAssignmentDeletionRequestId: first.RequestId,
      }),
    );
    expect(s.AccountAssignmentDeletionStatus!.Status).toBe("IN_PROGRESS");
    sim.setFaults({ assignmentDelayMs: 30 });
  });

  it("errors: ResourceNotFoundException, ValidationException", async () => {
    const e1 = await sso()
      .send(
        new DescribePermissionSetCommand({
          InstanceArn,
          PermissionSetArn: `${InstanceArn.replace("instance", "permissionSet")}/ps-0000000000000000`,
        }),
      )
      .catch((x: unknown) => x);
    expect(e1).toMatchObject({ name: "ResourceNotFoundException", $metadata: { httpStatusCode: 404 } });
    const e2 = await sso()
      .send(new ListPermissionSetsCommand({ InstanceArn, MaxResults: 101 }))
      .catch((x: unknown) => x);
    expect(e2).toMatchObject({ name: "ValidationException", $metadata: { httpStatusCode: 400 } });
    const e3 = await sso()
      .send(new ListPermissionSetsCommand({ InstanceArn: "arn:aws:sso:::instance/ssoins-0000000000000000" }))
      .catch((x: unknown) => x);
    expect(e3).toMatchObject({ name: "ResourceNotFoundException" });
    const e4 = await sso()
      .send(
        new DescribeAccountAssignmentCreationStatusCommand({
          InstanceArn,
          AccountAssignmentCreationRequestId: "00000000-0000-4000-a000-000000000000",
        }),
      )
      .catch((x: unknown) => x);
    expect(e4).toMatchObject({ name: "ResourceNotFoundException" });
  });
});
