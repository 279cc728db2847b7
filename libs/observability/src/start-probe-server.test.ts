import { Writable } from "node:stream";
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createLogger } from "@grantline/log";
import { testInfra } from "@grantline/testing";
import { createMetrics } from "./create-metrics.ts";
import type { Metrics } from "./create-metrics.ts";
import { startProbeServer } from "./start-probe-server.ts";
import type { ProbeServer, ReadinessCheck } from "./start-probe-server.ts";

const logger = createLogger({
  service: "test",
  level: "silent",
  destination: new Writable({ write: (_c, _e, d) => d() }),
});
const servers: ProbeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(
  readiness: ReadinessCheck[],
  metrics: Metrics = createMetrics({ service: "test" }),
  checkTimeoutMs?: number,
) {
  const server = await startProbeServer({
    port: 0,
    host: "127.0.0.1",
    metrics,
    readiness,
    logger,
    checkTimeoutMs,
  });
  servers.push(server);
  return server;
}

describe("startProbeServer", () => {
  it("answers /healthz and 404 for unknown paths", async () => {
    const s = await start([]);
    expect(s.port).toBeGreaterThan(0);
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${s.url}/nope`)).status).toBe(404);
  });

  it("is ready only while every check passes, and says which failed", async () => {
    let healthy = false;
    const s = await start([
      { name: "always", check: async () => {} },
      {
        name: "toggle",
        check: async () => {
          if (!healthy) throw new Error("dependency down");
        },
      },
    ]);
    let res = await fetch(`${s.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      ok: false,
      checks: { always: { ok: true }, toggle: { ok: false } },
    });
    // The reason is the operators' (in the log), not whoever can reach the port's.
    expect(JSON.stringify(await (await fetch(`${s.url}/readyz`)).json())).not.toMatch(/dependency down/);
    healthy = true;
    res = await fetch(`${s.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      ok: true,
      checks: { always: { ok: true }, toggle: { ok: true } },
    });
  });

  it("fails a check that outlives its timeout and aborts its signal", async () => {
    let aborted: unknown;
    const s = await start(
      [
        {
          name: "hang",
          check: (signal) =>
            new Promise<void>(() => {
              signal.addEventListener("abort", () => (aborted = signal.reason));
            }),
        },
      ],
      undefined,
      100,
    );
    const res = await fetch(`${s.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      checks: { hang: { ok: false } },
    });
    expect(aborted).toBeInstanceOf(Error);
  });

  it("reports what is degraded without failing readiness", async () => {
    let failing: Record<string, unknown> = {};
    const server = await startProbeServer({
      port: 0,
      host: "127.0.0.1",
      metrics: createMetrics({ service: "test" }),
      readiness: [{ name: "ok", check: async () => {} }],
      degraded: () => failing,
      logger,
    });
    servers.push(server);
    expect(await (await fetch(`${server.url}/readyz`)).json()).not.toHaveProperty("degraded");
    failing = { sources: { acme: { failures: 3 } } };
    const res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, degraded: { sources: { acme: { failures: 3 } } } });
  });

  it("reports not ready (and not healthy) once shutting down", async () => {
    const s = await start([{ name: "ok", check: async () => {} }]);
    expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
    s.markShuttingDown();
    const res = await fetch(`${s.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ ok: false, shuttingDown: true });
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
  });

  describe("with a real Redis ping check", () => {
    const up = new Redis(testInfra().redisUrl);
    // Port 1 refuses connections; one retry keeps the failing ping short.
    const down = new Redis("redis://127.0.0.1:1", { maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    down.on("error", () => {});
    afterAll(() => {
      up.disconnect();
      down.disconnect();
    });

    it("is ready when Redis answers and not when it does not", async () => {
      const ping = (r: Redis) => async () => {
        await r.ping();
      };
      const ok = await start([{ name: "redis", check: ping(up) }]);
      const okRes = await fetch(`${ok.url}/readyz`);
      expect(okRes.status).toBe(200);
      expect(await okRes.json()).toMatchObject({ ok: true, checks: { redis: { ok: true } } });

      const bad = await start([{ name: "redis", check: ping(down) }], undefined, 500);
      const badRes = await fetch(`${bad.url}/readyz`);
      expect(badRes.status).toBe(503);
      expect(await badRes.json()).toMatchObject({ ok: false, checks: { redis: { ok: false } } });
    });
  });

  it("serves recorded metrics as Prometheus text", async () => {
    const metrics = createMetrics({ service: "fetcher" });
    metrics.recordMessage("fetch", "ack", 0.2);
    metrics.recordMessage("fetch", "ack", 0.3);
    metrics.startMessage("fetch")("nak");
    metrics.counter("grantline_aws_throttles_total", "AWS throttles", ["api"]).inc({ api: "iam" });
    const s = await start([], metrics);
    const res = await fetch(`${s.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(
      sample(text, "grantline_messages_total", { stage: "fetch", outcome: "ack", service: "fetcher" }),
    ).toBe(2);
    expect(sample(text, "grantline_messages_total", { stage: "fetch", outcome: "nak" })).toBe(1);
    expect(sample(text, "grantline_message_duration_seconds_count", { stage: "fetch", outcome: "ack" })).toBe(
      2,
    );
    expect(sample(text, "grantline_message_duration_seconds_sum", { outcome: "ack" })).toBeCloseTo(0.5);
    expect(sample(text, "grantline_aws_throttles_total", { api: "iam" })).toBe(1);
    expect(text).toContain("process_cpu_user_seconds_total");
    // The dashboard's event-loop panel reads it; sampled every 50 ms rather than 10 (EVENT_LOOP_SAMPLE_MS).
    expect(text).toContain("nodejs_eventloop_lag_p99_seconds");
  });
});

/** The value of the first sample of `name` whose labels include `labels` (label order is not fixed). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}
