// grantline's four services as child processes: the esbuild bundles the container images run (with the images'
// NODE_OPTIONS, heap cap included) so the memory figures are about what ships, or `--from-source` through tsx.
import type { ChildProcess } from "node:child_process";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./bench-env.ts";
import { envFor, type BenchSettings } from "./bench-settings.ts";
import { scratchDir, spawnTracked } from "./process-control.ts";

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  /** The last 50 chunks of its output, shown when the run fails. */
  tail: string[];
}

/** The NODE_OPTIONS of the images' runtime stage (heap cap included), so bundled runs measure what ships. */
function runtimeNodeOptions(): string {
  const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
  const m = /^FROM \S+ AS runtime$[\s\S]*?^ENV .*NODE_OPTIONS=(?:"([^"]*)"|(\S+))/m.exec(dockerfile);
  const value = m?.[1] ?? m?.[2];
  if (value === undefined) throw new Error("Dockerfile: no NODE_OPTIONS in the runtime stage");
  return value;
}

function bundleServices(): string {
  const bundleDir = scratchDir("gl-bench-bundle-");
  const b = spawnSync(process.execPath, ["scripts/bundle.mjs", bundleDir], { cwd: ROOT, stdio: "inherit" });
  if (b.status !== 0) throw new Error("bundling the services failed");
  return bundleDir;
}

/** Scheduler, `replicas` fetchers, mapper and writer, sharing `env` (plus each one's `--env` overrides). */
export function startServices(settings: BenchSettings, env: Record<string, string>): ServiceProcess[] {
  const procs: ServiceProcess[] = [];
  const bundleDir = settings.fromSource ? null : bundleServices();
  const imageNodeOptions = bundleDir ? { NODE_OPTIONS: runtimeNodeOptions() } : {};
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
