import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrgDocument, startAwsSim, type AwsSim } from "@grantline/aws-sim";
import type { SyncReply } from "@grantline/contracts";
import { edgeCaseOrg } from "./edge-case-org.ts";
import { diffRows, expectedRows } from "./ground-truth.ts";
import { createPipeline, liveRows, simSource, type Pipeline } from "./pipeline-harness.ts";

let sim: AwsSim;
let p: Pipeline;

beforeAll(async () => {
  sim = await startAwsSim({ org: OrgDocument.parse(edgeCaseOrg()) });
  p = await createPipeline({ sources: { sources: [simSource("edge", sim)] } });
  p.startAll();
});
afterAll(async () => {
  await p?.close();
  await sim?.close();
});

describe("a hand-written organization full of edge cases", () => {
  it("syncs to exactly its ground truth", async () => {
    const r = await p.request<SyncReply>("sync", { sourceId: "edge" });
    if (!r.ok) throw new Error(r.error);
    expect(await p.waitForRun(r.runId, 120_000)).toBe("succeeded");
    const { resources, entitlements, grants } = await liveRows(p, "edge");
    const want = expectedRows(sim.exportOrg());
    expect(diffRows(want, { resources, entitlements, grants })).toEqual([]);
    // Spot checks that would catch a silently shared bug on both sides.
    expect(entitlements).toHaveLength(40 * 4 + 3);
    const suspended = await p.db
      .selectFrom("resources")
      .select("attrs")
      .where("source_id", "=", "edge")
      .where("type", "=", "account")
      .where("id", "=", "210000000013")
      .executeTakeFirstOrThrow();
    expect(suspended.attrs).toMatchObject({ status: "SUSPENDED", suspended: true });
    const everyone = grants.filter((g) =>
      g.id.startsWith("sso_group:6f1e2d3c-0000-4000-9000-000000000001:member:"),
    );
    expect(everyone).toHaveLength(100);
  });
});
