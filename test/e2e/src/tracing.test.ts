import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { headers } from "@nats-io/transport-node";
import { waitFor } from "@grantline/testing";
import { createPipeline, diagSource, syncAndWait, type Pipeline } from "./pipeline-harness.ts";

/** A span as an OTLP/HTTP JSON export carries it, with the exporting service's name. */
interface ExportedSpan {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  taskId: string | undefined;
}

interface OtlpJson {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: Array<{
      spans?: Array<{
        name: string;
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        attributes?: OtlpAttribute[];
      }>;
    }>;
  }>;
}
interface OtlpAttribute {
  key: string;
  value: { stringValue?: string };
}

/** The smallest OTLP/HTTP receiver: collects every span posted to /v1/traces. */
async function startCollector(): Promise<{ url: string; spans: ExportedSpan[]; server: Server }> {
  const spans: ExportedSpan[] = [];
  const attr = (a: OtlpAttribute[] | undefined, key: string) =>
    a?.find((x) => x.key === key)?.value.stringValue;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as OtlpJson;
      for (const rs of body.resourceSpans ?? [])
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? [])
            spans.push({
              service: attr(rs.resource?.attributes, "service.name") ?? "?",
              name: s.name,
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? "",
              taskId: attr(s.attributes, "grantline.task_id"),
            });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, server };
}

function jsonLines(output: string): Array<Record<string, unknown>> {
  return output
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

let p: Pipeline;
let collector: Awaited<ReturnType<typeof startCollector>>;

beforeAll(async () => {
  collector = await startCollector();
  p = await createPipeline({
    sources: { sources: [diagSource("traced", { pages: 3 })] },
    env: {
      LOG_LEVEL: "debug",
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_BSP_SCHEDULE_DELAY: "100",
    },
  });
  p.startAll();
});
afterAll(async () => {
  await p?.close();
  collector?.server.close();
});

describe("tracing across the pipeline", () => {
  it("a trace started at the scheduler is on the writer's log lines for the same task, and in every service's spans", async () => {
    const runId = await syncAndWait(p, "traced", 60_000);
    const tasks = await p.db
      .selectFrom("tasks")
      .select(["id", "parent_id"])
      .where("run_id", "=", runId)
      .execute();
    expect(tasks).toHaveLength(3);

    const started = jsonLines(p.logs("scheduler")).find((l) => l.msg === "run started" && l.runId === runId);
    const traceId = started?.trace_id;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    // Every task of the run — the root and the pages the writer itself enqueued — was applied under that trace.
    const applied = jsonLines(p.logs("writer")).filter((l) => l.msg === "batch applied" && l.runId === runId);
    expect(new Set(applied.map((l) => l.taskId))).toEqual(new Set(tasks.map((t) => t.id)));
    for (const line of applied) expect(line.trace_id).toBe(traceId);

    // The change events of the run carry the trace on to downstream consumers.
    const events = await waitFor(async () => {
      const n = (await p.jsm.streams.info(p.subjects.streams.events)).state.messages;
      return n > 0 ? n : null;
    });
    const first = await p.jsm.streams.getMessage(p.subjects.streams.events, { seq: 1 });
    expect(events).toBeGreaterThan(0);
    expect(first?.header.get("traceparent")).toContain(String(traceId));

    // The exported spans chain for the root task: writer → mapper → fetcher → the scheduler's sync span.
    const root = tasks.find((t) => t.parent_id === null);
    const spans = await waitFor(
      () => {
        const mine = collector.spans.filter((s) => s.traceId === traceId);
        const services = new Set(mine.map((s) => s.service));
        return services.size === 4 && mine.filter((s) => s.service === "grantline-writer").length >= 3
          ? mine
          : null;
      },
      { timeoutMs: 30_000, message: "spans of all four services" },
    );
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const writer = spans.find((s) => s.service === "grantline-writer" && s.taskId === root?.id);
    const chain: string[] = [];
    for (let s = writer; s; s = byId.get(s.parentSpanId)) chain.push(`${s.service}:${s.name}`);
    expect(chain).toEqual([
      "grantline-writer:writer process",
      "grantline-mapper:mapper process",
      "grantline-fetcher:fetcher process",
      "grantline-scheduler:grantline sync",
    ]);
  });

  it("a sync request that carries its caller's traceparent starts the run inside the caller's trace", async () => {
    const callerTrace = "0af7651916cd43dd8448eb211c80319c";
    const h = headers();
    h.set("traceparent", `00-${callerTrace}-b7ad6b7169203331-01`);
    const reply = await waitFor(async () => {
      const r = await p.nc.request(p.subjects.ctl("sync"), JSON.stringify({ sourceId: "traced" }), {
        timeout: 5000,
        headers: h,
      });
      const body = r.json<{ ok: boolean; runId: string; alreadyRunning: boolean }>();
      // A previous run of the source may still be finishing; ask until this request started one.
      return body.ok && !body.alreadyRunning ? body : null;
    });
    await p.waitForRun(reply.runId);
    const started = await waitFor(() =>
      jsonLines(p.logs("scheduler")).find((l) => l.msg === "run started" && l.runId === reply.runId),
    );
    expect(started.trace_id).toBe(callerTrace);
  });
});
