// aws-sim as its own process, so its CPU and memory are measured apart from grantline's and a fresh one (fresh
// counters, full buckets) serves each sync.
import type { ChildProcess } from "node:child_process";
import { ROOT } from "./bench-env.ts";
import { freePort, spawnTracked, stopProcess } from "./process-control.ts";

export interface Sim {
  proc: ChildProcess;
  url: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  get<T>(path: string): Promise<T>;
  post(path: string, body: unknown): Promise<void>;
  stop(): Promise<void>;
}

export interface Counters {
  operations: Record<string, { calls: number; throttled: number; errors: number }>;
  totals: { calls: number; throttled: number; errors: number };
}
export type Timeline = Record<string, Array<{ t: number; calls: number; throttled: number }>>;

/**
 * aws-sim with the organization `preset` generates from `seed` (default 1, aws-sim's own default); `cloudTrailDelay`
 * is its `--cloudtrail-delay` (CloudTrail's delivery delay: milliseconds or a distribution, see aws-sim's README).
 */
export async function startSim(o: {
  preset: string;
  seed?: number;
  latency: string;
  scale: number;
  cloudTrailDelay?: string;
  /** aws-sim's `--assignment-delay`: how long assignment operations stay IN_PROGRESS. */
  assignmentDelay?: string;
}): Promise<Sim> {
  const port = await freePort();
  const proc = spawnTracked(
    process.execPath,
    [
      "test/aws-sim/bin/aws-sim.js",
      ...["--org", o.preset, "--seed", String(o.seed ?? 1)],
      ...["--port", String(port), "--latency", o.latency],
      ...(o.cloudTrailDelay === undefined ? [] : ["--cloudtrail-delay", o.cloudTrailDelay]),
      ...(o.assignmentDelay === undefined ? [] : ["--assignment-delay", o.assignmentDelay]),
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`aws-sim did not start: ${out}`)), 60_000);
    proc.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("listening on")) {
        clearTimeout(t);
        resolve();
      }
    });
    proc.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    proc.once("exit", (code) => reject(new Error(`aws-sim exited (${code}): ${out}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const get = async <T>(path: string): Promise<T> => {
    const r = await fetch(url + path);
    if (!r.ok) throw new Error(`aws-sim ${path}: ${r.status}`);
    return (await r.json()) as T;
  };
  const post = async (path: string, body: unknown): Promise<void> => {
    const r = await fetch(url + path, { method: "POST", body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`aws-sim ${path}: ${r.status} ${await r.text()}`);
  };
  // The CLI turns AWS's quotas on at scale 1; scale them here (the admin API merges the update).
  await post("/_sim/faults", { rateLimits: { enabled: true, scale: o.scale } });
  const info = await get<{ managementCredentials: { accessKeyId: string; secretAccessKey: string } }>(
    "/_sim/info",
  );
  return {
    proc,
    url,
    credentials: info.managementCredentials,
    get,
    post,
    stop: () => stopProcess(proc),
  };
}
