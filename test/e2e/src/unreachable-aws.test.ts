import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SyncReply } from "@grantline/contracts";
import { createPipeline, type Pipeline } from "./pipeline-harness.ts";

const GIVE_UP_MS = 4000;
let p: Pipeline;

beforeAll(async () => {
  // An endpoint nothing listens on: every AWS call is refused.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const port = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  p = await createPipeline({
    sources: {
      sources: [
        {
          id: "gone",
          kind: "aws",
          endpoint: `http://127.0.0.1:${port}`,
          staticCredentials: { accessKeyId: "AKIAEXAMPLE", secretAccessKey: "secret" },
          fullSyncEveryMinutes: 0,
          iam: { enabled: false },
        },
      ],
    },
  });
  for (const name of ["scheduler", "mapper", "writer"] as const) p.start(name);
  // The fetcher gives up on an unanswering AWS after GIVE_UP_MS instead of after every delivery (~25 min).
  p.start("fetcher", { AWS_UNAVAILABLE_GIVE_UP_MS: String(GIVE_UP_MS) });
});
afterAll(async () => {
  await p?.close();
});

describe("an unreachable AWS endpoint", () => {
  it("fails the run with the reason within the documented bound (give-up + one retry interval)", async () => {
    const r = await p.request<SyncReply>("sync", { sourceId: "gone" });
    if (!r.ok) throw new Error(r.error);
    const started = Date.now();
    expect(await p.waitForRun(r.runId, 90_000)).toBe("failed");
    // Give-up, plus the retry interval in progress when it passed (backoff 1, 2, 4 … s), plus the pipeline.
    expect(Date.now() - started).toBeLessThan(GIVE_UP_MS + 60_000);
    const failed = await p.db
      .selectFrom("tasks")
      .select("error")
      .where("run_id", "=", r.runId)
      .where("status", "=", "failed")
      .execute();
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]?.error).toMatch(/gave-up: AWS endpoint unreachable: .*ECONNREFUSED/);
  });
});
