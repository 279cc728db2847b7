import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "@grantline/log";
import type { Metrics } from "./create-metrics.ts";

export interface ReadinessCheck {
  /** Key of this check in the `/readyz` body. */
  name: string;
  /** Resolves when the dependency is usable; the signal aborts when the check times out. */
  check: (signal: AbortSignal) => Promise<void>;
}

export interface ProbeServerOptions {
  /** 0 picks a free port (tests). */
  port: number;
  /** @default "0.0.0.0" */
  host?: string;
  metrics: Metrics;
  /** Read on every `/readyz`, so checks pushed after start are included. */
  readiness: ReadinessCheck[];
  /**
   * Read on every `/readyz`: what works but not fully (an upstream failing), reported under `degraded` without
   * failing readiness — the pod cannot fix an unreachable AWS endpoint, and restarting or unrouting it would only
   * add to the outage. Keys name the subject (e.g. a source id).
   */
  degraded?: () => Record<string, unknown>;
  logger: Logger;
  /** @default 2000 */
  checkTimeoutMs?: number;
}

export interface ProbeServer {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /** Base URL reachable from this host, e.g. `http://127.0.0.1:9464`. */
  readonly url: string;
  /** Makes `/readyz` answer 503 so Kubernetes stops routing before the service drains (`/healthz` stays 200). */
  markShuttingDown(): void;
  close(): Promise<void>;
}

export type CheckResult = { ok: true; ms: number } | { ok: false; ms: number; error: string };

export interface ReadinessReport {
  ok: boolean;
  shuttingDown?: true;
  checks: Record<string, CheckResult>;
  /** Present when something works only partly (`ProbeServerOptions.degraded`); readiness stays `ok`. */
  degraded?: Record<string, unknown>;
}

/**
 * Serves Kubernetes probes and Prometheus scrapes: `/healthz` (liveness), `/readyz` (every readiness check
 * passes within its timeout) and `/metrics`.
 *
 * @example
 * const probes = await startProbeServer({
 *   port: config.probePort,
 *   metrics,
 *   logger,
 *   readiness: [{ name: "redis", check: async () => void (await redis.ping()) }],
 * });
 * process.once("SIGTERM", async () => {
 *   probes.markShuttingDown();
 *   await drain();
 *   await probes.close();
 * });
 */
export async function startProbeServer(opts: ProbeServerOptions): Promise<ProbeServer> {
  const host = opts.host ?? "127.0.0.1";
  const timeoutMs = opts.checkTimeoutMs ?? 2000;
  const log = opts.logger.child({ component: "probes" });
  let shuttingDown = false;
  let lastReady: boolean | undefined;
  // Overlapping probes share one run so slow dependencies are not hit once per waiting request.
  let inflight: Promise<ReadinessReport> | undefined;

  async function runChecks(): Promise<ReadinessReport> {
    const entries = await Promise.all(
      opts.readiness.map(async (c): Promise<[string, CheckResult]> => [c.name, await runCheck(c, timeoutMs)]),
    );
    const checks = Object.fromEntries(entries);
    const ok = entries.every(([, r]) => r.ok);
    // Probes arrive every few seconds; logging only transitions keeps the signal without the noise.
    if (ok !== lastReady) {
      if (ok) log.info("ready");
      else log.warn({ checks }, "not ready");
      lastReady = ok;
    }
    return { ok, checks };
  }

  async function readiness(): Promise<ReadinessReport> {
    if (shuttingDown) return { ok: false, shuttingDown: true, checks: {} };
    inflight ??= runChecks().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://probe").pathname;
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, "text/plain", "method not allowed\n", { allow: "GET, HEAD" });
      return;
    }
    switch (path) {
      case "/healthz":
        // Liveness stays green while draining: a failing liveness probe would make Kubernetes kill the pod
        // in the middle of the graceful shutdown it is waiting for.
        send(res, 200, "application/json", JSON.stringify({ ok: true, shuttingDown }));
        return;
      case "/readyz": {
        const report = await readiness();
        const degraded = opts.degraded?.() ?? {};
        const shown = withoutErrors(report);
        const body = Object.keys(degraded).length > 0 ? { ...shown, degraded } : shown;
        send(res, report.ok ? 200 : 503, "application/json", JSON.stringify(body));
        return;
      }
      case "/metrics":
        send(res, 200, opts.metrics.registry.contentType, await opts.metrics.text());
        return;
      default:
        send(res, 404, "text/plain", "not found\n");
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err, url: req.url }, "probe request failed");
      if (!res.headersSent) send(res, 500, "text/plain", "internal error\n");
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${reachableHost(host)}:${port}`;
  log.info({ port, host }, "probe server listening");

  return {
    port,
    url,
    markShuttingDown() {
      if (!shuttingDown) log.info("shutting down; readiness now fails");
      shuttingDown = true;
    },
    async close() {
      shuttingDown = true;
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive connections from scrapers would otherwise hold close() open until they time out.
        server.closeAllConnections();
      });
    },
  };
}

/**
 * What `/readyz` tells whoever can reach it: each dependency's name and whether it passed. The errors (hosts,
 * account ids, what a dependency refused) go to the log, which only operators read.
 */
function withoutErrors(r: ReadinessReport): {
  ok: boolean;
  checks: Record<string, { ok: boolean; ms: number }>;
} {
  const checks = Object.fromEntries(
    Object.entries(r.checks).map(([name, c]) => [name, { ok: c.ok, ms: c.ms }]),
  );
  return { ...r, checks };
}

async function runCheck(c: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Error(`timed out after ${timeoutMs} ms`);
      ac.abort(err);
      reject(err);
    }, timeoutMs);
  });
  try {
    // A check ignoring its signal must still not hold the probe past the timeout.
    await Promise.race([Promise.resolve().then(() => c.check(ac.signal)), timeout]);
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (err) {
    return {
      ok: false,
      ms: Math.round(performance.now() - started),
      error: err instanceof Error ? err.message : String(err),
    };
  } finally {
    clearTimeout(timer);
  }
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": contentType, "cache-control": "no-store", ...headers });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

function reachableHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}
