import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCESS_ROLE, startAwsSim, type AwsSim, type OrgDocument } from "@grantline/aws-sim";
import type { RefreshReply } from "@grantline/contracts";
import {
  changeEventKeys,
  diffRows,
  expectedEventKeys,
  expectedIamRows,
  expectedRows,
  mergeRows,
  type ExpectedRows,
} from "./ground-truth.ts";
import {
  createPipeline,
  liveRows,
  readEvents,
  simSource,
  syncAndWait,
  type Pipeline,
} from "./pipeline-harness.ts";

// `grantline refresh` (ctl.refresh) after an aws-sim mutation leaves the rows equal to aws-sim's ground truth
// (which a full sync reaches: identity-center.test.ts, iam.test.ts) and emits exactly the change events the
// difference implies; a later full sync then finds nothing to change.

let sim: AwsSim;
let p: Pipeline;

beforeAll(async () => {
  sim = await startAwsSim({ preset: "small", seed: 23 });
  p = await createPipeline({
    sources: {
      sources: [
        simSource("acme", sim, {
          iam: { enabled: true, crossAccount: true, roleName: ACCESS_ROLE, onlyAttachedPolicies: true },
        }),
      ],
    },
  });
  p.startAll();
});
afterAll(async () => {
  await p?.close();
  await sim?.close();
});

const expected = (org: OrgDocument): ExpectedRows => mergeRows(expectedRows(org), expectedIamRows(org));

/** Refreshes `target`, waits for its run and returns the run's change events (derived grants left out). */
async function refresh(target: string): Promise<string[]> {
  const r = await p.request<RefreshReply>("refresh", { sourceId: "acme", target });
  if (!r.ok) throw new Error(r.error);
  expect(r.runId, `a run of ${target} started`).not.toBeNull();
  const status = await p.waitForRun(r.runId!, 120_000);
  if (status !== "succeeded") throw new Error(`refresh run ${status}\n${p.logs().slice(-4000)}`);
  return changeEventKeys(await readEvents(p, r.runId!));
}

/** Mutates aws-sim, refreshes `target`, and checks rows and events against the ground truth's difference. */
async function expectRefreshConverges(
  mutate: () => void,
  target: string,
  updated: string[] = [],
  targetAfter: () => string = () => target,
): Promise<string[]> {
  const before = expected(sim.exportOrg());
  mutate();
  const after = expected(sim.exportOrg());
  const events = await refresh(targetAfter());
  expect(diffRows(after, await liveRows(p, "acme"))).toEqual([]);
  expect(events).toEqual(expectedEventKeys(before, after, updated));
  return events;
}

describe("grantline refresh", () => {
  it("starts from a full sync equal to the ground truth", async () => {
    await syncAndWait(p, "acme");
    expect(diffRows(expected(sim.exportOrg()), await liveRows(p, "acme"))).toEqual([]);
  });

  it("a user: one created since the last sync, read alone (its store found from the synced instance)", async () => {
    let userId = "";
    const events = await expectRefreshConverges(
      () => {
        userId = (
          sim.mutate.createIdentityStoreUser({
            userName: "fresh.user@example.com",
            displayName: "Fresh User",
            givenName: "Fresh",
            familyName: "User",
          }) as { userId: string }
        ).userId;
      },
      "sso_user:",
      [],
      () => `sso_user:${userId}`,
    );
    expect(events).toEqual([`resource.created sso_user/${userId}`]);
  });

  it("a group: a member added and one removed", async () => {
    const ic = sim.exportOrg().identityCenter!;
    const g = ic.groups.find((x) => ic.memberships.some((m) => m.groupId === x.groupId))!;
    const leaving = ic.memberships.find((m) => m.groupId === g.groupId)!;
    const joining = ic.users.find(
      (u) => !ic.memberships.some((m) => m.groupId === g.groupId && m.userId === u.userId),
    )!;
    const events = await expectRefreshConverges(() => {
      sim.mutate.addGroupMembership({ groupId: g.groupId, userId: joining.userId });
      sim.mutate.removeGroupMembership({ membershipId: leaving.membershipId });
    }, `sso_group:${g.groupId}`);
    expect(events).toHaveLength(2);
  });

  it("a permission set: its boundary and a new assignment on one of its pairs", async () => {
    const ic = sim.exportOrg().identityCenter!;
    const ps = ic.permissionSets.find((x) => x.provisionedTo.length > 0)!;
    const acct = ps.provisionedTo[0]!;
    const user = ic.users.find(
      (u) =>
        !ic.assignments.some(
          (a) => a.permissionSetArn === ps.arn && a.accountId === acct && a.principalId === u.userId,
        ),
    )!;
    const events = await expectRefreshConverges(
      () => {
        sim.mutate.putPermissionSetBoundary({
          permissionSetArn: ps.arn,
          boundary: { managedPolicyArn: "arn:aws:iam::aws:policy/ReadOnlyAccess" },
        });
        sim.mutate.createAccountAssignment({
          accountId: acct,
          permissionSetArn: ps.arn,
          principalType: "USER",
          principalId: user.userId,
        });
      },
      `permission_set:${ps.arn}`,
      [`permission_set/${ps.arn}`],
    );
    expect(events).toContain(`resource.updated permission_set/${ps.arn}`);
    expect(events).toContain(`grant.created ${acct}|${ps.arn}:sso_user:${user.userId}`);
  });

  it("a role: its trust policy", async () => {
    const org = sim.exportOrg();
    const acct = org.accounts.find((a) => a.id === org.organization.managementAccountId)!;
    const role = acct.iam.roles.find((r) => !r.path.startsWith("/aws-reserved/"))!;
    const roleArn = `arn:aws:iam::${acct.id}:role${role.path}${role.name}`;
    const events = await expectRefreshConverges(
      () =>
        sim.mutate.updateAssumeRolePolicy({
          accountId: acct.id,
          roleName: role.name,
          trustPolicy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Principal: { AWS: "*" }, Action: "sts:AssumeRole" }],
          }),
        }),
      `iam_role:${roleArn}`,
      [`iam_role/${roleArn}`],
    );
    expect(events).toContain(`resource.updated iam_role/${roleArn}`);
    expect(events).toContain(`grant.created iam_role:${roleArn}:assignment:wildcard:*`);
  });

  it("a deleted user and a deleted group: resource.deleted, and their grants revoked", async () => {
    const ic = sim.exportOrg().identityCenter!;
    const user = ic.users.find(
      (u) =>
        ic.memberships.some((m) => m.userId === u.userId) &&
        ic.assignments.some((a) => a.principalId === u.userId),
    )!;
    const userEvents = await expectRefreshConverges(
      () => sim.mutate.deleteIdentityStoreUser({ userId: user.userId }),
      `sso_user:${user.userId}`,
    );
    expect(userEvents).toContain(`resource.deleted sso_user/${user.userId}`);
    expect(userEvents.filter((e) => e.startsWith("grant.revoked")).length).toBeGreaterThanOrEqual(2);

    const ic2 = sim.exportOrg().identityCenter!;
    const group = ic2.groups.find((g) => ic2.memberships.some((m) => m.groupId === g.groupId))!;
    const groupEvents = await expectRefreshConverges(
      () => sim.mutate.deleteIdentityStoreGroup({ groupId: group.groupId }),
      `sso_group:${group.groupId}`,
    );
    expect(groupEvents).toContain(`resource.deleted sso_group/${group.groupId}`);
    expect(groupEvents.some((e) => e.startsWith(`grant.revoked sso_group:${group.groupId}:member:`))).toBe(
      true,
    );
  });

  it("a full sync afterwards finds nothing to change: the refreshes left what it would have", async () => {
    const runId = await syncAndWait(p, "acme");
    const events = await readEvents(p, runId);
    expect(
      events.filter((e) => !e.type.startsWith("dev.grantline.run.")).map((e) => `${e.type} ${e.subject}`),
    ).toEqual([]);
  });

  it("a target grantline cannot refresh is a clear error", async () => {
    const bad = await p.request<RefreshReply>("refresh", { sourceId: "acme", target: "grant:x" });
    expect(bad).toMatchObject({ ok: false, error: expect.stringMatching(/cannot refresh a grant/) });
  });
});
