import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCESS_ROLE, startAwsSim, type AwsSim } from "@grantline/aws-sim";
import { createPipeline, runCli, simSource, type Pipeline } from "./pipeline-harness.ts";

let sim: AwsSim;
let p: Pipeline;

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  return runCli(args, { ...p.env, ...env });
}

beforeAll(async () => {
  sim = await startAwsSim({ preset: "tiny", seed: 5 });
  // IAM on, so access can-assume and explain have role trust (and grants derived from it) to walk.
  p = await createPipeline({
    sources: {
      sources: [
        simSource("acme", sim, { iam: { enabled: true, crossAccount: true, roleName: ACCESS_ROLE } }),
      ],
    },
  });
  p.startAll();
});
afterAll(async () => {
  await p?.close();
  await sim?.close();
});

describe("the grantline CLI", () => {
  it("sync --wait runs to completion and prints the run as JSON", async () => {
    const r = await cli(["sync", "acme", "--wait", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out.trim().split("\n").pop()!)).toMatchObject({
      sourceId: "acme",
      status: "succeeded",
    });
  });

  it("status, access who/of and events tail answer from the synced data", async () => {
    const status = await cli(["status", "--json"]);
    expect(JSON.parse(status.out)[0]).toMatchObject({ sourceId: "acme", status: "succeeded" });

    const org = sim.exportOrg();
    const a = org.identityCenter!.assignments.find((x) => x.principalType === "GROUP")!;
    const who = (
      JSON.parse((await cli(["access", "who", a.accountId, "--json"])).out) as {
        rows: Array<Record<string, string | null>>;
      }
    ).rows;
    // A group's assignment reaches its members through the group (via_type/via_id say which).
    const members = org
      .identityCenter!.memberships.filter((m) => m.groupId === a.principalId)
      .map((m) => m.userId);
    for (const userId of members) {
      expect(who).toContainEqual(
        expect.objectContaining({ principal_id: userId, via_type: "sso_group", via_id: a.principalId }),
      );
    }
    const of = JSON.parse((await cli(["access", "of", a.principalId, "--json"])).out) as { rows: unknown[] };
    expect(of.rows.length).toBeGreaterThan(0);

    const tail = await cli(["events", "tail", "--from-start", "--limit", "3", "--json"]);
    expect(tail.code).toBe(0);
    const lines = tail.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { specversion: string });
    expect(lines).toHaveLength(3);
    expect(lines.every((e) => e.specversion === "1.0")).toBe(true);
  });

  it("access can-assume and explain walk the synced role trust, the management account's included", async () => {
    const org = sim.exportOrg();
    const mgmt = org.organization.managementAccountId;
    const member = org.accounts.find((x) => x.id !== mgmt && x.status === "ACTIVE")!;
    const role = `arn:aws:iam::${member.id}:role/${ACCESS_ROLE}`;
    const r = await cli(["access", "can-assume", role, "--json"]);
    expect(r.code).toBe(0);
    const { paths } = JSON.parse(r.out) as {
      paths: Array<{
        principal: { type: string; id: string };
        derivedFrom: string | null;
        steps: Array<{ kind: string; identityStatements?: unknown[] }>;
      }>;
    };
    // The access role trusts the management account (aws-sim creates it so, as Organizations does).
    expect(paths).toContainEqual(
      expect.objectContaining({
        principal: { type: "aws_account", id: mgmt, name: null },
        steps: [expect.objectContaining({ kind: "trust" })],
      }),
    );
    // A principal it reaches through that trust says which identity-policy statements allow it.
    const derived = paths.filter((x) => x.derivedFrom === "account-trust");
    expect(derived.length).toBeGreaterThan(0);
    for (const path of derived) {
      expect(path.steps.at(-1)).toMatchObject({ kind: "account-trust" });
      const step = path.steps.at(-1) as { identityStatements?: unknown[] };
      expect(step.identityStatements?.length ?? 0).toBeGreaterThan(0);
    }
    const explain = await cli(["access", "explain", mgmt, member.id]);
    expect(explain.code).toBe(0);
    expect(explain.out).toContain(`may assume ${ACCESS_ROLE} (iam_role in ${member.id})`);
  });

  it("gives one friendly line for mistakes", async () => {
    const unknown = await cli(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/^grantline: unknown command: frobnicate/);
    const badSource = await cli(["sync", "nope"]);
    expect(badSource.code).toBe(1);
    expect(badSource.err.trim()).toMatch(/^grantline: unknown source "nope"/);
    const badEnv = await cli(["status"], { DATABASE_URL: "mysql://x" });
    expect(badEnv.code).toBe(2);
    expect(badEnv.err.trim()).toMatch(/^grantline: invalid configuration: DATABASE_URL/);
  });

  it("refresh --wait re-reads one object in a refresh run and prints its stats; a bad target says why", async () => {
    const user = sim.exportOrg().identityCenter!.users[0]!;
    const r = await cli(["refresh", `sso_user:${user.userId}`, "--source", "acme", "--wait", "--json"]);
    expect(r.code, `${r.err}${r.out}`).toBe(0);
    expect(JSON.parse(r.out.trim().split("\n").pop()!)).toMatchObject({
      sourceId: "acme",
      kind: "refresh",
      status: "succeeded",
      stats: { refreshes: 1 },
    });
    const bad = await cli(["refresh", "grant:x"]);
    expect(bad.code).toBe(1);
    expect(bad.err.trim()).toMatch(/^grantline: cannot refresh a grant/);
  });
});
