import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SyncReply } from "@grantline/contracts";
import { waitFor } from "@grantline/testing";
import { createPipeline, diagSource, type Pipeline, type RunningService } from "./pipeline-harness.ts";

let p: Pipeline;

beforeAll(async () => {
  p = await createPipeline({
    sources: { sources: [diagSource("huge", { pages: 1, itemsPerPage: 100_000 })] },
    // The images' V8 flags (Dockerfile, runtime stage): the measurement is of what production runs.
    env: { NODE_OPTIONS: "--max-old-space-size=192 --max-semi-space-size=4" },
  });
  p.startAll();
});
afterAll(async () => {
  await p?.close();
});

const MB = 1024 * 1024;
type Stage = "mapper" | "writer";
const STAGES: Stage[] = ["mapper", "writer"];
/** What "back near the baseline" allows: a few MB of caches and code warmed by the run, not the run's data. */
const HEAP_SLACK_MB = 16;

/** The service's own report (prom-client default metrics on /metrics), and the kernel's RSS of its process. */
async function memory(s: RunningService) {
  const probe = await waitFor(() => /"probe":"(http:[^"]+)"/.exec(s.output.join(""))?.[1], {
    timeoutMs: 90_000,
  });
  const text = await (await fetch(`${probe}/metrics`)).text();
  const metric = (name: string) =>
    Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1]) / MB;
  const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${s.child.pid}/status`, "utf8"))?.[1]);
  return {
    heapUsedMb: Math.round(metric("nodejs_heap_size_used_bytes")),
    heapTotalMb: Math.round(metric("nodejs_heap_size_total_bytes")),
    rssMb: Math.round(rssKb / 1024),
  };
}
type Memory = Awaited<ReturnType<typeof memory>>;

const one = (name: Stage) => p.services.get(name)![0]!;
const both = async () => ({ mapper: await memory(one("mapper")), writer: await memory(one("writer")) });

describe("memory after a large message", () => {
  it("the mapper's and writer's heap returns near its baseline after a 100,000-row page (RSS recorded)", async () => {
    for (const s of STAGES)
      await waitFor(() => /"probe":"http/.test(one(s).output.join("")), { timeoutMs: 90_000 });
    // Let start-up garbage settle before the baseline.
    await new Promise((r) => setTimeout(r, 5000));
    const baseline = await both();
    const started = Date.now();
    const r = await p.request<SyncReply>("sync", { sourceId: "huge" });
    if (!r.ok) throw new Error(r.error);
    const peak: Record<Stage, Memory> = { ...baseline };
    await waitFor(
      async () => {
        const m = await both();
        for (const s of STAGES)
          peak[s] = {
            heapUsedMb: Math.max(peak[s].heapUsedMb, m[s].heapUsedMb),
            heapTotalMb: Math.max(peak[s].heapTotalMb, m[s].heapTotalMb),
            rssMb: Math.max(peak[s].rssMb, m[s].rssMb),
          };
        const run = await p.db
          .selectFrom("runs")
          .select("status")
          .where("id", "=", r.runId)
          .executeTakeFirst();
        return run?.status === "succeeded";
      },
      { timeoutMs: 240_000, intervalMs: 500 },
    );
    const ended = Date.now();
    // Heap in use is what we hold; RSS also depends on when V8 and malloc give pages back (recorded, not asserted:
    // on a loaded machine the writer's stayed 30 MB up for minutes although its heap was back).
    const near = (m: Record<Stage, Memory>) =>
      STAGES.every((s) => m[s].heapUsedMb <= baseline[s].heapUsedMb + HEAP_SLACK_MB);
    // V8 collects an idle process's garbage on its own within seconds to tens of seconds.
    const after = await waitFor(async () => ((m) => (near(m) ? m : null))(await both()), {
      timeoutMs: 90_000,
      intervalMs: 1000,
    }).catch(both);
    const report = {
      runS: Math.round((ended - started) / 1000),
      settledS: Math.round((Date.now() - ended) / 1000),
      baseline,
      peak,
      after,
    };
    // The figures docs/operating.md records ("Memory after large messages").
    console.log(JSON.stringify(report));
    for (const s of STAGES)
      expect(after[s].heapUsedMb, s).toBeLessThanOrEqual(baseline[s].heapUsedMb + HEAP_SLACK_MB);
  });
});
