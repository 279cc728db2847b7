import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { isAwsError } from "./aws-error.ts";
import type { Counters } from "./counters.ts";
import type { FaultConfig, FaultUpdate } from "./faults.ts";
import { MUTATION_REQUIRED } from "./mutations.ts";
import type { SimMutations } from "./mutations.ts";
import type { Store } from "./store.ts";
import { TrailDelay } from "./trail-delay.ts";

export interface AdminDeps {
  store: Store;
  counters: Counters;
  mutations: SimMutations;
  getFaults: () => FaultConfig;
  setFaults: (f: FaultUpdate) => void;
  info: () => Record<string, unknown>;
}

/** JSON admin API under `/_sim/` (see README). */
export function createAdminApi(
  deps: AdminDeps,
): (req: IncomingMessage, res: ServerResponse, body: string) => Promise<void> {
  const send = (res: ServerResponse, status: number, v: unknown): void => {
    const s = v === undefined ? "{}" : JSON.stringify(v);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(s) });
    res.end(s);
  };
  return async (req, res, body) => {
    const path = (req.url ?? "").split("?")[0]!;
    const method = req.method ?? "GET";
    try {
      const parsed: unknown = body.trim() ? JSON.parse(body) : {};
      if (method === "GET" && path === "/_sim/org") return send(res, 200, deps.store.exportOrg());
      if (method === "GET" && path === "/_sim/info") return send(res, 200, deps.info());
      if (method === "GET" && path === "/_sim/faults") return send(res, 200, deps.getFaults());
      if (method === "POST" && path === "/_sim/faults") {
        deps.setFaults(parsed as FaultUpdate);
        return send(res, 200, deps.getFaults());
      }
      if (path === "/_sim/trail-delay" && (method === "GET" || method === "POST")) {
        if (method === "POST") {
          const { seed, ...delay } = parsed as Record<string, unknown>;
          deps.setFaults({
            cloudTrailDelay: TrailDelay.parse(delay),
            ...(seed !== undefined ? { cloudTrailDelaySeed: z.number().int().parse(seed) } : {}),
          });
        }
        const f = deps.getFaults();
        return send(res, 200, { ...f.cloudTrailDelay, seed: f.cloudTrailDelaySeed });
      }
      if (method === "GET" && path === "/_sim/trail")
        return send(res, 200, trailOf(deps.store, req.url ?? ""));
      if (method === "GET" && path === "/_sim/counters") return send(res, 200, deps.counters.snapshot());
      if (method === "POST" && path === "/_sim/counters/reset") {
        deps.counters.reset();
        return send(res, 200, {});
      }
      if (method === "GET" && path === "/_sim/provisioning")
        return send(res, 200, deps.store.ssoAdmin.provisioningCounters());
      if (method === "POST" && path === "/_sim/provisioning/reset") {
        deps.store.ssoAdmin.resetProvisioningCounters();
        return send(res, 200, {});
      }
      if (method === "GET" && path === "/_sim/timeline")
        return send(res, 200, deps.counters.timelineSnapshot());
      if (method === "GET" && path === "/_sim/mutate") return send(res, 200, Object.keys(deps.mutations));
      const m = /^\/_sim\/mutate\/([A-Za-z]+)$/.exec(path);
      if (method === "POST" && m) {
        const name = m[1]!;
        if (!Object.hasOwn(deps.mutations, name))
          return send(res, 404, { error: "UnknownMutation", message: `No mutation ${name}` });
        const key = name as keyof SimMutations;
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
          return send(res, 400, { error: "BadRequest", message: "Body must be a JSON object" });
        const body = parsed as Record<string, unknown>;
        const missing = MUTATION_REQUIRED[key].filter((k) => typeof body[k] !== "string" || body[k] === "");
        if (missing.length)
          return send(res, 400, {
            error: "BadRequest",
            message: `Missing string member(s): ${missing.join(", ")}`,
          });
        const fn = deps.mutations[key] as (p: unknown) => unknown;
        const result = await Promise.resolve(fn(parsed));
        return send(res, 200, result ?? {});
      }
      return send(res, 404, { error: "NotFound", message: `${method} ${path}` });
    } catch (e) {
      if (isAwsError(e)) return send(res, e.status, { error: e.code, message: e.message });
      return send(res, 400, { error: "BadRequest", message: e instanceof Error ? e.message : String(e) });
    }
  };
}

/** `GET /_sim/trail?accountId=…[&region=…][&visible=true]`: the account's recorded events, oldest first. */
function trailOf(store: Store, url: string): unknown[] {
  const q = new URL(url, "http://sim").searchParams;
  const accountId = q.get("accountId") ?? store.mgmt();
  const region = q.get("region");
  const visibleOnly = q.get("visible") === "true";
  const now = Date.now();
  return store.trail
    .all(accountId)
    .filter((e) => (region === null || e.region === region) && (!visibleOnly || e.visibleAt <= now))
    .map((e) => ({
      eventId: e.eventId,
      eventSource: e.eventSource,
      eventName: e.eventName,
      eventTime: new Date(e.eventTime).toISOString(),
      visibleAt: new Date(e.visibleAt).toISOString(),
      region: e.region,
      readOnly: e.readOnly,
      ...(e.errorCode ? { errorCode: e.errorCode } : {}),
      record: e.record,
    }));
}
