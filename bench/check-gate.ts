// The benchmark gate's verdict (`npm run bench:gate`, docs/benchmarks.md "The gate"): one run's figures against
// the baseline committed in bench/baseline.json. Pure, so every rule is unit-tested (check-gate.test.ts).

/** What the gate runs: fixed, and recorded in the baseline so a figure is only compared with a like run. */
export interface GateSettings {
  preset: string;
  seed: number;
  /** Every aws-sim quota and every grantline budget × this. */
  scale: number;
  /** aws-sim latency per call, `MIN-MAX` ms. */
  latency: string;
  replicas: number;
}

/** One gate run, as measured (gate.ts). */
export interface GateResult {
  settings: GateSettings;
  status: string;
  failedTasks: number;
  /** Rows of the run (resources, entitlements, grants) and how many differ from aws-sim's ground truth. */
  rows: number;
  rowDifferences: number;
  /** The first differences, for the miss line. */
  firstDifferences: string[];
  /** AWS calls per operation (attempts, as aws-sim counted them), and the throttled ones of all. */
  calls: Record<string, number>;
  throttled: number;
  wallS: number;
  /** The rate-limit floor of the run's own successful calls, and its quota scope. */
  floorS: number;
  floorScope: string;
  /** CPU seconds of the grantline services (scheduler, fetchers, mapper, writer) during the run. */
  serviceCpuS: number;
  /** CPU seconds of aws-sim during the run: the same work every run, so it measures the machine (`cpuPerSimCpu`). */
  simCpuS: number;
}

/** bench/baseline.json. `wallOverFloor` and `floorS` are for reference; the limits are `LIMITS`. */
export interface Baseline {
  settings: GateSettings;
  recordedAt: string;
  calls: Record<string, number>;
  /** For reference: CPU milliseconds depend on the machine (the same code measured 1.7 × apart on two days). */
  cpuMsPerCall: number;
  /**
   * The services' CPU ÷ aws-sim's CPU in the same run: what the CPU limit is checked against. Absent from a
   * baseline recorded before 2026-12-02 afternoon, which the gate then refuses to compare with.
   */
  cpuPerSimCpu?: number;
  floorS: number;
  wallOverFloor: number;
}

export const LIMITS = { wallOverFloor: 1.25, cpuFactor: 1.5 } as const;

export function totalCalls(calls: Record<string, number>): number {
  return Object.values(calls).reduce((a, b) => a + b, 0);
}

export function wallOverFloor(r: GateResult): number {
  return r.floorS > 0 ? r.wallS / r.floorS : Infinity;
}

export function cpuMsPerCall(r: GateResult): number {
  const calls = totalCalls(r.calls);
  return calls > 0 ? (r.serviceCpuS * 1000) / calls : Infinity;
}

/**
 * The services' CPU seconds per CPU second of aws-sim in the same run. aws-sim serves the same calls every gate
 * run, so its CPU scales with the machine's speed and load the way the services' does: the ratio compares runs
 * on machines (or days of one VM) whose CPU milliseconds do not compare.
 */
export function cpuPerSimCpu(r: GateResult): number {
  return r.simCpuS > 0 ? r.serviceCpuS / r.simCpuS : Infinity;
}

const fmt = (x: number, digits: number): string => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

/** Every figure that misses, one line each; empty when the run passes. */
export function checkGate(r: GateResult, b: Baseline): string[] {
  const misses: string[] = [];
  const differing = (Object.keys(b.settings) as (keyof GateSettings)[]).filter(
    (k) => r.settings[k] !== b.settings[k],
  );
  if (differing.length)
    misses.push(
      `settings: the baseline was recorded with ${differing.map((k) => `${k} ${b.settings[k]}`).join(", ")}, this run used ${differing.map((k) => `${k} ${r.settings[k]}`).join(", ")} — figures are not comparable; re-record with --update`,
    );
  if (r.status !== "succeeded" || r.failedTasks > 0)
    misses.push(`run: ${r.status} with ${r.failedTasks} failed tasks (want succeeded, 0 failed)`);
  if (r.rowDifferences > 0)
    misses.push(
      `rows: ${r.rowDifferences} differences from the ground truth (want identical), e.g. ${r.firstDifferences.slice(0, 3).join("; ")}`,
    );
  if (r.throttled > 0)
    misses.push(
      `throttled: ${r.throttled} of ${totalCalls(r.calls)} AWS calls throttled (want 0 %: grantline's budgets must keep it under the quotas)`,
    );
  const over = Object.entries(r.calls)
    .filter(([op, n]) => n > (b.calls[op] ?? 0))
    .sort(([a], [c]) => a.localeCompare(c))
    .map(([op, n]) => `${op} ${n} > ${b.calls[op] ?? 0}`);
  if (over.length)
    misses.push(
      `AWS calls per operation above the baseline: ${over.join(", ")} (${totalCalls(r.calls)} calls in all, baseline ${totalCalls(b.calls)}; a change that needs more calls updates bench/baseline.json in the same commit and says why)`,
    );
  const ratio = wallOverFloor(r);
  if (!(ratio <= LIMITS.wallOverFloor))
    misses.push(
      `wall ÷ floor: ${fmt(ratio, 2)} (${fmt(r.wallS, 1)} s on a ${fmt(r.floorS, 1)} s floor, ${r.floorScope}) > ${LIMITS.wallOverFloor}`,
    );
  const cpu = cpuPerSimCpu(r);
  if (b.cpuPerSimCpu === undefined)
    misses.push(
      "CPU of the services per CPU of aws-sim: the baseline has no cpuPerSimCpu (recorded before it was measured); re-record with --update",
    );
  else if (!(cpu <= b.cpuPerSimCpu * LIMITS.cpuFactor))
    misses.push(
      `CPU of the services per CPU of aws-sim: ${fmt(cpu, 2)} (${fmt(r.serviceCpuS, 2)} CPU s ÷ ${fmt(r.simCpuS, 2)}; ${fmt(cpuMsPerCall(r), 2)} ms per AWS call) > ${fmt(b.cpuPerSimCpu * LIMITS.cpuFactor, 2)} (baseline ${fmt(b.cpuPerSimCpu, 2)} × ${LIMITS.cpuFactor})`,
    );
  return misses;
}

/** The baseline `--update` writes from a run. */
export function baselineFrom(r: GateResult, recordedAt: string): Baseline {
  return {
    settings: r.settings,
    recordedAt,
    calls: Object.fromEntries(Object.entries(r.calls).sort(([a], [b]) => a.localeCompare(b))),
    cpuMsPerCall: Math.round(cpuMsPerCall(r) * 100) / 100,
    cpuPerSimCpu: Math.round(cpuPerSimCpu(r) * 100) / 100,
    floorS: Math.round(r.floorS * 100) / 100,
    wallOverFloor: Math.round(wallOverFloor(r) * 1000) / 1000,
  };
}
