// What a run cost the machine, read from /proc: CPU seconds per process (and per Postgres / NATS process, which
// serve every engineer's work on a shared machine), the machine's busy share, and peak RSS per service.
import type { ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

export interface SampledProcess {
  name: string;
  child: ChildProcess;
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (clock ticks of 1/100 s). */
function readProcCpuS(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds of every process whose name is `comm`, by pid (Postgres runs a process per connection). */
function readCommCpuS(comm: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, "utf8").trim() === comm)
        out.set(Number(d), readProcCpuS(Number(d)));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let s = 0;
  for (const [pid, v] of after) s += v - (before.get(pid) ?? 0);
  return Math.round(s * 100) / 100;
}

/** Busy and total jiffies of the whole machine, from the first line of /proc/stat. */
function readMachineCpu(): { busy: number; total: number } {
  try {
    const v = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: total - (v[3] ?? 0) - (v[4] ?? 0), total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** The 1, 5 and 15 minute load averages, recorded with every result: other work on the machine skews wall times. */
export function loadAvg(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}

export function readProcKb(pid: number, field: "VmRSS" | "VmHWM"): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export interface CpuSnapshot {
  procs: Map<string, number>;
  sim: number;
  machine: { busy: number; total: number };
  infra: Record<string, Map<number, number>>;
  /** This process (the harness: polling, sampling), so a busy machine's share is accounted for. */
  harness: NodeJS.CpuUsage;
  /**
   * The last CPU seen of every infrastructure process, read each second: the Postgres connections the services'
   * pools close (and parallel workers) exit before the run ends — on a large run ~3/4 of Postgres's CPU, which
   * two readings missed.
   */
  seen: Record<string, Map<number, number>>;
  tracker: NodeJS.Timeout;
}

// The budgets' GCRA scripts and the permission-set cache run in Redis.
const INFRA = ["postgres", "nats-server", "redis-server"] as const;

/** CPU readings from now on; `cpuSince` ends them. */
export function cpuSnapshot(procs: SampledProcess[], simPid: number | undefined): CpuSnapshot {
  const infra = Object.fromEntries(INFRA.map((c) => [c, readCommCpuS(c)]));
  const seen = Object.fromEntries(INFRA.map((c) => [c, new Map(infra[c])]));
  const track = (): void => {
    for (const c of INFRA) for (const [pid, v] of readCommCpuS(c)) seen[c]!.set(pid, v);
  };
  return {
    procs: new Map(procs.map((p) => [p.name, readProcCpuS(p.child.pid ?? 0)])),
    sim: readProcCpuS(simPid ?? 0),
    machine: readMachineCpu(),
    infra,
    harness: process.cpuUsage(),
    seen,
    tracker: setInterval(track, 1000).unref(),
  };
}

/** CPU seconds per process since `start` (aws-sim, Postgres and NATS included), and the machine's busy share. */
export function cpuSince(
  start: CpuSnapshot,
  procs: SampledProcess[],
  simPid: number | undefined,
): { cpuS: Record<string, number>; machineBusy: number } {
  const cpuS: Record<string, number> = {};
  for (const p of procs)
    cpuS[p.name] = Math.round((readProcCpuS(p.child.pid ?? 0) - (start.procs.get(p.name) ?? 0)) * 100) / 100;
  // Hundredths (the clock ticks /proc counts): aws-sim's ~1 CPU s in a gate run is the gate's yardstick.
  cpuS["aws-sim"] = Math.round((readProcCpuS(simPid ?? 0) - start.sim) * 100) / 100;
  clearInterval(start.tracker);
  for (const [comm, before] of Object.entries(start.infra)) {
    // Exited processes count with their last reading, the living ones with their current one.
    const after = new Map(start.seen[comm]);
    for (const [pid, v] of readCommCpuS(comm)) after.set(pid, v);
    cpuS[comm] = cpuDelta(before, after);
  }
  const h = process.cpuUsage(start.harness);
  cpuS["bench harness"] = Math.round((h.user + h.system) / 1e4) / 100;
  const now = readMachineCpu();
  const machineBusy = (now.busy - start.machine.busy) / Math.max(1, now.total - start.machine.total);
  return { cpuS, machineBusy };
}

/**
 * Resolves once the processes have started up: their CPU time together grew by less than `quietCpuS` over one
 * `windowMs` (a freshly started Node service spends a second or more of CPU loading and connecting), or after
 * `timeoutMs` regardless. A figure per unit of work then leaves start-up out.
 */
export async function waitForQuiet(
  procs: SampledProcess[],
  o: { windowMs: number; quietCpuS: number; timeoutMs: number },
): Promise<void> {
  const total = (): number => procs.reduce((s, p) => s + readProcCpuS(p.child.pid ?? 0), 0);
  const deadline = Date.now() + o.timeoutMs;
  let before = total();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, o.windowMs));
    const now = total();
    if (now - before < o.quietCpuS) return;
    before = now;
  }
}

/** Peak RSS per process as the report states it: VmRSS sampled every 500 ms, and the kernel's VmHWM. */
export function startRssSampler(procs: SampledProcess[]): {
  sample(): void;
  stop(): void;
  rss(): Record<string, { peakMb: number; hwmMb: number }>;
} {
  const peak = new Map<string, number>();
  const sample = (): void => {
    for (const p of procs) {
      if (p.child.pid === undefined) continue;
      peak.set(p.name, Math.max(peak.get(p.name) ?? 0, readProcKb(p.child.pid, "VmRSS")));
    }
  };
  const timer = setInterval(sample, 500);
  return {
    sample,
    stop: () => clearInterval(timer),
    rss: () => {
      const out: Record<string, { peakMb: number; hwmMb: number }> = {};
      for (const p of procs)
        out[p.name] = {
          peakMb: Math.round((peak.get(p.name) ?? 0) / 102.4) / 10,
          hwmMb: Math.round(readProcKb(p.child.pid ?? 0, "VmHWM") / 102.4) / 10,
        };
      return out;
    },
  };
}
