// grantline's four services as child processes: the esbuild bundles the container images run (with the images'
// NODE_OPTIONS, heap cap included) so the memory figures are about what ships, or `--from-source` through tsx.
import type { ChildProcess } from "node:child_process";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, log } from "./bench-env.ts";
import { envFor, type BenchSettings } from "./bench-settings.ts";
import { scratchDir, spawnTracked } from "./process-control.ts";

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  /** The last 50 chunks of its output, shown when the run fails. */
  tail: string[];
}

/**
 * The NODE_OPTIONS of the images' runtime stage (heap cap included), so bundled runs measure what ships. A flag
 * the running Node.js does not take (the images run Node 22; `--experimental-async-context-frame` does not exist
 * on 20, which refuses to start with it) is left out and named, so a run on another Node says what it measured.
 */
function runtimeNodeOptions(): { value: string; dropped: string[] } {
  const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
  const m = /^FROM \S+ AS runtime$[\s\S]*?^ENV .*NODE_OPTIONS=(?:"([^"]*)"|(\S+))/m.exec(dockerfile);
  const value = m?.[1] ?? m?.[2];
  if (value === undefined) throw new Error("Dockerfile: no NODE_OPTIONS in the runtime stage");
  const flags = value.split(/\s+/).filter(Boolean);
  const taken = flags.filter((f) => process.allowedNodeEnvironmentFlags.has(f));
  return { value: taken.join(" "), dropped: flags.filter((f) => !taken.includes(f)) };
}

/**
 * The bundles, in a scratch directory — or, when profiling, beside the profiles and kept: a profile's frames name
 * a bundle's lines, and the summary reads the bundle to tell its modules apart (cpu-profile.ts).
 */
function bundleServices(cpuProfDir: string | undefined): string {
  const bundleDir = cpuProfDir ? join(cpuProfDir, "bundles") : scratchDir("gl-bench-bundle-");
  const b = spawnSync(process.execPath, ["scripts/bundle.mjs", bundleDir], { cwd: ROOT, stdio: "inherit" });
  if (b.status !== 0) throw new Error("bundling the services failed");
  return bundleDir;
}

/** Scheduler, `replicas` fetchers, mapper and writer, sharing `env` (plus each one's `--env` overrides). */
export function startServices(settings: BenchSettings, env: Record<string, string>): ServiceProcess[] {
  const procs: ServiceProcess[] = [];
  const bundleDir = settings.fromSource ? null : bundleServices(settings.cpuProfDir);
  const image = bundleDir ? runtimeNodeOptions() : null;
  if (image && image.dropped.length > 0)
    log(
      `Node ${process.version} does not take ${image.dropped.join(" ")} (the images' NODE_OPTIONS): run without it`,
    );
  const imageNodeOptions = image ? { NODE_OPTIONS: image.value } : {};
  const start = (name: string, label: string): void => {
    // Written when the service exits after SIGTERM (its graceful shutdown ends in process.exit).
    const prof = settings.cpuProfDir
      ? ["--cpu-prof", `--cpu-prof-dir=${join(settings.cpuProfDir, label)}`]
      : [];
    const args = bundleDir
      ? [...prof, join(bundleDir, `${name}.mjs`)]
      : [...prof, "--import", "tsx", `services/${name}/src/main.ts`];
    const child = spawnTracked(process.execPath, args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", ...imageNodeOptions, ...env, ...envFor(settings, name) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const tail: string[] = [];
    const keep = (d: Buffer): void => {
      tail.push(d.toString());
      if (tail.length > 50) tail.shift();
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    procs.push({ name: label, child, tail });
  };
  const { replicas } = settings;
  start("scheduler", "scheduler");
  for (let i = 1; i <= replicas; i++) start("fetcher", replicas > 1 ? `fetcher-${i}` : "fetcher");
  start("mapper", "mapper");
  start("writer", "writer");
  return procs;
}
