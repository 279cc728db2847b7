// A summary of V8's .cpuprofile files (`npm run bench -- --cpu-prof`): self time per function and per package,
// over the run's window only (start-up and shutdown left out), so a profile answers "where does a sync's CPU go"
// without opening DevTools. The format: a call tree of nodes, and samples naming a node each with the time since
// the previous sample (https://chromedevtools.github.io/devtools-protocol/tot/Profiler/#type-Profile).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame }>;
  /** Microseconds of the monotonic clock (the one `process.hrtime` reads). */
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  /** Sampled busy time in the window (idle samples left out). */
  busyMs: number;
  functions: SelfTime[];
  packages: SelfTime[];
}

/** The package (or VM category) a frame's script belongs to, from its URL. */
export function packageOf(f: CallFrame): string {
  if (f.url === "") return f.functionName.startsWith("(") ? f.functionName : "(native)";
  if (f.url.startsWith("node:")) return "node:internal";
  const path = f.url.replace(/^file:\/\//, "");
  const nm = path.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const parts = path.slice(nm + "/node_modules/".length).split("/");
    return parts[0]?.startsWith("@") ? `${parts[0]}/${parts[1]}` : (parts[0] ?? path);
  }
  const ws = /\/(libs|services|test)\/([^/]+)\//.exec(path);
  if (ws) return ws[1] === "libs" ? `@grantline/${ws[2]}` : `${ws[1]}/${ws[2]}`;
  // A bundled service: one file for everything; run with --from-source to split it into packages.
  return path.slice(path.lastIndexOf("/") + 1);
}

function top(m: Map<string, number>, total: number, n: number): SelfTime[] {
  return [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, share: total > 0 ? us / total : 0 }));
}

/**
 * Self time per function and per package of the samples taken in `window` (monotonic µs, inclusive), the `n`
 * largest of each. Each sample is charged the interval up to the next one.
 */
export function summarizeProfile(
  p: CpuProfile,
  o: { window?: { fromUs: number; toUs: number }; n?: number } = {},
): ProfileSummary {
  const frames = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let busy = 0;
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    const dt = (i + 1 < p.samples.length ? (p.timeDeltas[i + 1] ?? 0) : p.endTime - t) || 0;
    if (o.window && (t < o.window.fromUs || t > o.window.toUs)) continue;
    const f = frames.get(p.samples[i]!);
    if (!f || f.functionName === "(idle)") continue;
    busy += dt;
    const file = f.url ? f.url.slice(f.url.lastIndexOf("/") + 1) : "";
    const fn = `${f.functionName || "(anonymous)"}${file ? ` ${file}:${f.lineNumber + 1}` : ""}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + dt);
    const pkg = packageOf(f);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + dt);
  }
  const n = o.n ?? 15;
  return {
    busyMs: Math.round(busy / 1000),
    functions: top(byFunction, busy, n),
    packages: top(byPackage, busy, n),
  };
}

/** The .cpuprofile files under `dir/<service>/`, by service (a service writes one per process on exit). */
export function readProfiles(dir: string): Array<{ service: string; file: string; profile: CpuProfile }> {
  const out: Array<{ service: string; file: string; profile: CpuProfile }> = [];
  for (const service of readdirSync(dir).sort())
    for (const f of readdirSync(join(dir, service)).filter((x) => x.endsWith(".cpuprofile"))) {
      const file = join(dir, service, f);
      out.push({ service, file, profile: JSON.parse(readFileSync(file, "utf8")) as CpuProfile });
    }
  return out;
}

/** Printable lines: per service, its profile file and the top self times by package and by function. */
export function profileReport(
  dir: string,
  window: { fromUs: number; toUs: number } | undefined,
  n = 12,
): string[] {
  const lines = [`CPU profiles (.cpuprofile, open in Chrome DevTools or speedscope) under ${dir}:`];
  for (const { service, file, profile } of readProfiles(dir)) {
    const s = summarizeProfile(profile, { window, n });
    const fmt = (x: SelfTime): string =>
      `    ${(x.share * 100).toFixed(1).padStart(5)} %  ${String(x.ms).padStart(8)} ms  ${x.name}`;
    lines.push(
      `\n${service}: ${file}`,
      `  sampled non-idle time in the run: ${s.busyMs} ms (wall clock: shares, not CPU seconds); self time by package:`,
      ...s.packages.map(fmt),
      `  by function:`,
      ...s.functions.map(fmt),
    );
  }
  return lines;
}
