import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCESS_ROLE, startAwsSim, type AwsSim, type OrgDocument } from "@grantline/aws-sim";
import type { SyncReply } from "@grantline/contracts";
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
  readEvents,
  simSource,
  type Pipeline,
  liveRows,
  syncAndWait,
} from "./pipeline-harness.ts";

let sim: AwsSim;
let p: Pipeline;

beforeAll(async () => {
  sim = await startAwsSim({ preset: "small", seed: 11 });
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

/** Organizations + Identity Center + IAM of every ACTIVE account (or the accounts' IAM taken from `iamFrom`). */
function expected(org: OrgDocument, iamFrom: OrgDocument = org): ExpectedRows {
  return mergeRows(expectedRows(org), expectedIamRows(iamFrom));
}

async function changeEvents(runId: string): Promise<string[]> {
  return changeEventKeys(await readEvents(p, runId));
}

describe("IAM in every account (cross-account)", () => {
  let before: ExpectedRows;

  it("the first run brings every ACTIVE account's IAM to aws-sim's ground truth", async () => {
    const org = sim.exportOrg();
    expect(org.accounts.some((a) => a.status === "SUSPENDED")).toBe(true);
    await syncAndWait(p, "acme");
    before = expected(org);
    const iam = expectedIamRows(org);
    expect([...iam.resources.keys()].some((k) => k.startsWith("access_key/"))).toBe(true);
    // Cross-account: every ACTIVE account, not only the management account, and no suspended one.
    const accounts = [...iam.resources.keys()].filter((k) => k.startsWith("iam_account/"));
    expect(accounts).toHaveLength(org.accounts.filter((a) => a.status === "ACTIVE").length);
    expect(accounts.length).toBeGreaterThan(1);
    expect(diffRows(before, await liveRows(p, "acme"))).toEqual([]);
  });

  it("a second run sees no change and emits no change events", async () => {
    const runId = await syncAndWait(p, "acme");
    expect(diffRows(before, await liveRows(p, "acme"))).toEqual([]);
    expect(await changeEvents(runId)).toEqual([]);
  });

  it("after IAM mutations, the next run emits exactly the expected events", async () => {
    const org = sim.exportOrg();
    const acct = org.accounts.find(
      (a) =>
        a.status === "ACTIVE" && a.id !== org.organization.managementAccountId && a.iam.users.length >= 2,
    )!;
    const iam = acct.iam;
    const [u1, u2] = [iam.users[0]!, iam.users[1]!];
    const joinable = iam.groups.find((g) => !u1.groups.includes(g.name))!;
    sim.mutate.addIamUserToGroup({ accountId: acct.id, groupName: joinable.name, userName: u1.name });
    const member = iam.users.find((u) => u !== u1 && u !== u2 && u.groups.length > 0);
    if (member)
      sim.mutate.removeIamUserFromGroup({
        accountId: acct.id,
        groupName: member.groups[0]!,
        userName: member.name,
      });
    const custom = iam.policies.find((x) => !u1.attachedPolicies.some((a) => a.endsWith(`/${x.name}`)))!;
    const customArn = `arn:aws:iam::${acct.id}:policy${custom.path}${custom.name}`;
    sim.mutate.attachPolicy({
      accountId: acct.id,
      principalType: "user",
      principalName: u1.name,
      policyArn: customArn,
    });
    const runtime = iam.roles.find((r) => r.name === "app-runtime")!;
    const detached = runtime.attachedPolicies[0]!;
    sim.mutate.detachPolicy({
      accountId: acct.id,
      principalType: "role",
      principalName: runtime.name,
      policyArn: detached,
    });
    const u1Arn = `arn:aws:iam::${acct.id}:user${u1.path}${u1.name}`;
    sim.mutate.updateAssumeRolePolicy({
      accountId: acct.id,
      roleName: runtime.name,
      trustPolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { AWS: [u1Arn, "*"] }, Action: "sts:AssumeRole" }],
      }),
    });
    sim.mutate.deleteIamUser({ accountId: acct.id, userName: u2.name });
    const after = expected(sim.exportOrg());

    const runId = await syncAndWait(p, "acme");
    expect(diffRows(after, await liveRows(p, "acme"))).toEqual([]);
    const runtimeKey = `iam_role/arn:aws:iam::${acct.id}:role${runtime.path}${runtime.name}`;
    const got = await changeEvents(runId);
    expect(got).toEqual(expectedEventKeys(before, after, [runtimeKey]));
    const u2Arn = `arn:aws:iam::${acct.id}:user${u2.path}${u2.name}`;
    expect(got).toEqual(
      expect.arrayContaining([
        `resource.deleted iam_user/${u2Arn}`,
        `resource.updated ${runtimeKey}`,
        `grant.created ${runtimeKey.replace("iam_role/", "iam_role:")}:assignment:wildcard:*`,
        `grant.created ${runtimeKey.replace("iam_role/", "iam_role:")}:assignment:iam_user:${u1Arn}`,
        `grant.created iam_policy:${customArn}:attached:iam_user:${u1Arn}`,
        `grant.revoked iam_policy:${detached}:attached:${runtimeKey.replace("/", ":")}`,
      ]),
    );
    before = after;
  });

  it("an account whose role cannot be assumed is skipped with a warning; its IAM rows are kept", async () => {
    const org = sim.exportOrg();
    const acct = org.accounts.find(
      (a) =>
        a.status === "ACTIVE" &&
        a.id !== org.organization.managementAccountId &&
        a.iam.roles.some((r) => r.name === ACCESS_ROLE),
    )!;
    sim.mutate.deleteIamRole({ accountId: acct.id, roleName: ACCESS_ROLE });
    // The fetcher caches assumed-role sessions (aws-sim keeps honouring them after the role is gone): a fresh
    // fetcher has to assume the role again, and is denied.
    await p.kill("fetcher");
    p.start("fetcher");
    // Ground truth: everything as exported now, except that account's IAM, which stays as it was synced.
    const now = sim.exportOrg();
    const kept = {
      ...now,
      accounts: now.accounts.map((a) => (a.id === acct.id ? { ...a, iam: acct.iam } : a)),
    };
    const want = expected(now, kept);

    const runId = await syncAndWait(p, "acme");
    expect(diffRows(want, await liveRows(p, "acme"))).toEqual([]);
    expect(await changeEvents(runId)).toEqual([]);
    const run = await p.db
      .selectFrom("runs")
      .select(["status", "warnings"])
      .where("id", "=", runId)
      .executeTakeFirstOrThrow();
    expect(run.status).toBe("succeeded");
    const warnings = (typeof run.warnings === "string" ? JSON.parse(run.warnings) : run.warnings) as string[];
    expect(warnings.some((w) => w.includes(acct.id))).toBe(true);
  });
});

describe("IAM in the caller's account only (crossAccount off)", () => {
  let sim2: AwsSim;
  let p2: Pipeline;
  beforeAll(async () => {
    sim2 = await startAwsSim({ preset: "tiny", seed: 3 });
    p2 = await createPipeline({
      sources: { sources: [simSource("solo", sim2, { iam: { enabled: true, crossAccount: false } })] },
    });
    p2.startAll();
  });
  afterAll(async () => {
    await p2?.close();
    await sim2?.close();
  });

  it("syncs the management account's IAM and no member account's", async () => {
    const r = await p2.request<SyncReply>("sync", { sourceId: "solo" });
    if (!r.ok) throw new Error(r.error);
    expect(await p2.waitForRun(r.runId, 120_000)).toBe("succeeded");
    const org = sim2.exportOrg();
    const want = mergeRows(
      expectedRows(org),
      expectedIamRows(org, { accounts: [org.organization.managementAccountId] }),
    );
    const { resources, entitlements, grants } = await liveRows(p2, "solo");
    expect(diffRows(want, { resources, entitlements, grants })).toEqual([]);
    expect(resources.filter((x) => x.type === "iam_account").map((x) => x.id)).toEqual([
      org.organization.managementAccountId,
    ]);
  });
});
