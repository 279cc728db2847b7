import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StatusReply, SyncReply } from "@grantline/contracts";
import { waitFor } from "@grantline/testing";
import { createPipeline, type Pipeline } from "./pipeline-harness.ts";

// Long enough to look at the failing source while its run still runs.
const GIVE_UP_MS = 15_000;
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
  it("is visible within seconds (readiness detail, metric, run warning); fails the run with the reason within the documented bound", async () => {
    const r = await p.request<SyncReply>("sync", { sourceId: "gone" });
    if (!r.ok) throw new Error(r.error);
    const started = Date.now();

    // Visible within seconds, long before the give-up: readiness detail (still ready), metric, run warning.
    const probe = await waitFor(
      () => /"probe":"(http:[^"]+)"[^\n]*fetcher started/.exec(p.logs("fetcher"))?.[1],
    );
    const readyz = await waitFor(
      async () => {
        const res = await fetch(`${probe}/readyz`);
        const body = (await res.json()) as { degraded?: { sources?: Record<string, { error: string }> } };
        return body.degraded?.sources?.gone
          ? { status: res.status, error: body.degraded.sources.gone.error }
          : null;
      },
      { timeoutMs: 10_000 },
    );
    expect(readyz.status).toBe(200);
    expect(readyz.error).toMatch(/AWS endpoint unreachable/);
    expect(await (await fetch(`${probe}/metrics`)).text()).toMatch(
      /grantline_source_failing\{[^}]*source="gone"[^}]*\} 1/,
    );
    const warned = await waitFor(
      async () => {
        const s = await p.request<StatusReply>("status", { runId: r.runId });
        return s.ok ? s.runs[0]?.warnings.find((w) => w.includes("source gone failing")) : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect(warned).toMatch(/AWS_UNAVAILABLE_GIVE_UP_MS/);
    expect(Date.now() - started).toBeLessThan(GIVE_UP_MS);

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
    const finished = await p.request<StatusReply>("status", { runId: r.runId });
    expect(finished.ok && finished.runs[0]?.warnings.join("\n")).toMatch(/source gone failing/);
  });
});
