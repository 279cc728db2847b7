import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsSim, type AwsSim } from "@grantline/aws-sim";
import { createPipeline, simSource, type Pipeline } from "./pipeline-harness.ts";

const BIN = fileURLToPath(new URL("../../../cli/bin/grantline.js", import.meta.url));
let sim: AwsSim;
let p: Pipeline;

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? "", ...p.env, ...env },
    });
    let out = "";
    let err = "";
    c.stdout.on("data", (d: Buffer) => (out += d.toString()));
    c.stderr.on("data", (d: Buffer) => (err += d.toString()));
    c.once("exit", (code) => resolve({ code: code ?? 1, out, err }));
  });
}

beforeAll(async () => {
  sim = await startAwsSim({ preset: "tiny", seed: 5 });
  p = await createPipeline({ sources: { sources: [simSource("acme", sim)] } });
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
    const who = JSON.parse((await cli(["access", "who", a.accountId, "--json"])).out) as Array<
      Record<string, string | null>
    >;
    // A group's assignment reaches its members through the group (via_type/via_id say which).
    const members = org
      .identityCenter!.memberships.filter((m) => m.groupId === a.principalId)
      .map((m) => m.userId);
    for (const userId of members) {
      expect(who).toContainEqual(
        expect.objectContaining({ principal_id: userId, via_type: "sso_group", via_id: a.principalId }),
      );
    }
    const of = JSON.parse((await cli(["access", "of", a.principalId, "--json"])).out) as unknown[];
    expect(of.length).toBeGreaterThan(0);

    const tail = await cli(["events", "tail", "--from-start", "--limit", "3", "--json"]);
    expect(tail.code).toBe(0);
    const lines = tail.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { specversion: string });
    expect(lines).toHaveLength(3);
    expect(lines.every((e) => e.specversion === "1.0")).toBe(true);
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
});
