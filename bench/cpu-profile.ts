// A summary of V8's .cpuprofile files (`npm run bench -- --cpu-prof`): self time per function and per package,
// over the run's window only (start-up and shutdown left out), so a profile answers "where does a sync's CPU go"
// without opening DevTools. The format: a call tree of nodes, and samples naming a node each with the time since
// the previous sample (https://chromedevtools.github.io/devtools-protocol/tot/Profiler/#type-Profile).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame; children?: number[] }>;
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
  /**
   * Inclusive time by the deepest grantline frame on the sample's stack and the package it had called into
   * ("handleInSpan @grantline/nats → zod"): what our code pays for, wherever the time is spent below it.
   */
  callers: SelfTime[];
}

/**
 * esbuild writes `// <path>` before each module it bundles (`// node_modules/zod/v4/core/schemas.js`,
 * `// libs/nats/src/start-consumer.ts`): the module of a bundle's line is the last such marker above it.
 * Lines are 0-based, as V8's call frames give them.
 */
const MODULE_MARKER = /^\/\/ ((?:node_modules|libs|services|cli|test)\/\S+)$/;
const bundles = new Map<string, Array<[number, string]> | null>();

function moduleInBundle(path: string, line: number): string | null {
  let marks = bundles.get(path);
  if (marks === undefined) {
    marks = null;
    if (path.endsWith(".mjs") && existsSync(path)) {
      const found: Array<[number, string]> = [];
      readFileSync(path, "utf8")
        .split("\n")
        .forEach((l, i) => {
          const m = MODULE_MARKER.exec(l);
          if (m) found.push([i, m[1]!]);
        });
      if (found.length > 0) marks = found;
    }
    bundles.set(path, marks);
  }
  if (!marks) return null;
  let lo = 0;
  let hi = marks.length - 1;
  let at: string | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (marks[mid]![0] <= line) {
      at = marks[mid]![1];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return at;
}

function packageOfPath(path: string): string | null {
  const nm = path.lastIndexOf("node_modules/");
  if (nm >= 0 && (nm === 0 || path[nm - 1] === "/")) {
    const parts = path.slice(nm + "node_modules/".length).split("/");
    return parts[0]?.startsWith("@") ? `${parts[0]}/${parts[1]}` : (parts[0] ?? path);
  }
  const ws = /(?:^|\/)(libs|services|test)\/([^/]+)\//.exec(path);
  if (ws) return ws[1] === "libs" ? `@grantline/${ws[2]}` : `${ws[1]}/${ws[2]}`;
  return null;
}

/** A frame's module: its file, or inside a bundle the module esbuild put there. */
function moduleOf(f: CallFrame): string {
  const path = f.url.replace(/^file:\/\//, "");
  return moduleInBundle(path, f.lineNumber) ?? path;
}

/**
 * The package (or VM category) a frame's script belongs to, from its URL — inside one of the bundles the images
 * run, from the module esbuild placed at its line (the bundle is read from where the profile says it ran).
 */
export function packageOf(f: CallFrame): string {
  if (f.url === "") return f.functionName.startsWith("(") ? f.functionName : "(native)";
  if (f.url.startsWith("node:")) return "node:internal";
  const module = moduleOf(f);
  return packageOfPath(module) ?? module.slice(module.lastIndexOf("/") + 1);
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
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const packages = new Map<number, string>();
  const pkgOf = (id: number): string => {
    let pkg = packages.get(id);
    if (pkg === undefined) {
      pkg = packageOf(frames.get(id)!);
      packages.set(id, pkg);
    }
    return pkg;
  };
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  const byCaller = new Map<string, number>();
  const callers = new Map<number, string>();
  let busy = 0;
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    const dt = (i + 1 < p.samples.length ? (p.timeDeltas[i + 1] ?? 0) : p.endTime - t) || 0;
    if (o.window && (t < o.window.fromUs || t > o.window.toUs)) continue;
    const f = frames.get(p.samples[i]!);
    if (!f || f.functionName === "(idle)") continue;
    busy += dt;
    const module = f.url ? moduleOf(f) : "";
    const file = module.replace(/^.*node_modules\//, "").replace(/^.*\/(libs|services)\//, "$1/");
    const inBundle = module !== f.url.replace(/^file:\/\//, "");
    const fn = `${f.functionName || "(anonymous)"}${file ? ` ${file}${inBundle ? "" : `:${f.lineNumber + 1}`}` : ""}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + dt);
    const id = p.samples[i]!;
    const pkg = pkgOf(id);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + dt);
    const caller = callerOf(id);
    byCaller.set(caller, (byCaller.get(caller) ?? 0) + dt);
  }
  const n = o.n ?? 15;
  return {
    busyMs: Math.round(busy / 1000),
    functions: top(byFunction, busy, n),
    packages: top(byPackage, busy, n),
    callers: top(byCaller, busy, n),
  };

  /**
   * The deepest grantline frame above a sample and the package below it that the time was spent in. A node's
   * answer never changes: walked once per node, not once per sample.
   */
  function callerOf(id: number): string {
    let known = callers.get(id);
    if (known === undefined) {
      known = walkToCaller(id);
      callers.set(id, known);
    }
    return known;
  }

  function walkToCaller(id: number): string {
    let below: string | null = null;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const pkg = pkgOf(at);
      if (pkg.startsWith("@grantline/") || pkg.startsWith("services/")) {
        const name = frames.get(at)!.functionName || "(anonymous)";
        return `${name} ${pkg} → ${below ?? "itself"}`;
      }
      below ??= pkg;
    }
    // An async continuation (the SDK's middleware after an await, a socket's data): no grantline frame left.
    return `(no grantline frame) ${pkgOf(id)}`;
  }
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
      `  inclusive, by the deepest grantline frame and the package it called into:`,
      ...s.callers.map(fmt),
    );
  }
  return lines;
}
