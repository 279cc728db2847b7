// `npm run bench:gate`: the benchmark gate CI runs after `npm run check` (docs/benchmarks.md "The gate"). One full
// sync of a small organization through the bundled services, budget-bound under scaled AWS quotas, checked against
// bench/baseline.json by checkGate: rows = ground truth, no failed task, nothing throttled, AWS calls per operation
// ≤ baseline, wall ÷ floor ≤ 1.25, the services' CPU per CPU second of aws-sim ≤ 1.5 × baseline. Prints a compact
// table and one line per miss, exits 1 on any. `--update` rewrites the baseline instead. Never appends to
// docs/benchmarks.md.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { OrgDocument } from "@grantline/aws-sim";
import * as prettier from "prettier";
import { ROOT, log } from "./bench-env.ts";
import { iamMappersRegistered, type BenchSettings } from "./bench-settings.ts";
import {
  baselineFrom,
  checkGate,
  cpuMsPerCall,
  cpuPerSimCpu,
  LIMITS,
  totalCalls,
  wallOverFloor,
  type Baseline,
  type GateResult,
  type GateSettings,
} from "./check-gate.ts";
import { compareRows, diffCount } from "./compare-rows.ts";
import { cpuPerCall } from "./cpu-per-call.ts";
import { floorOf, iamCallsByAccount, quotaRates } from "./floor.ts";
import { stopAll } from "./process-control.ts";
import { runPipeline, type PipelineResult } from "./run-pipeline.ts";
import { startSim } from "./sim-process.ts";

/**
 * The gate's run: the small preset (10 accounts, 10 permission sets, 100 users; IAM in every account) with every
 * quota and budget at a quarter of AWS's. Its 222 AWS calls then have an 18.4 s floor (92 SSO Admin calls at 5/s),
 * which the run is bound by (wall ≈ 1.02 × floor) rather than by start-up or this machine, and the whole gate takes
 * ~25 s. Lower quotas would lengthen the run without making it any more budget-bound, and a slower mapper or
 * writer would need a larger slowdown before it showed against a slower-paced floor.
 */
const GATE = {
  preset: "small",
  seed: 1,
  scale: 0.25,
  latency: "30-80",
  replicas: 2,
} as const satisfies GateSettings;

const USAGE = `npm run bench:gate -- [--update] [--baseline FILE]
  --update         run, then rewrite the baseline from this run instead of checking against it
                   (legitimate only as docs/benchmarks.md "The gate" says)
  --baseline FILE  the baseline (default bench/baseline.json)`;

function measure(settings: BenchSettings, org: OrgDocument, p: PipelineResult): GateResult {
  const { floor } = floorOf(p.counters, settings.rates, iamCallsByAccount(p.timeline));
  const d = compareRows(org, p.actual, null, { mapped: settings.iamMapped, all: settings.iamAll });
  return {
    settings: GATE,
    status: p.status,
    failedTasks: p.failedTasks,
    rows: p.actual.resources.length + p.actual.entitlements.length + p.actual.grants.length,
    rowDifferences: diffCount(d.diffTruth) + diffCount(d.diffIamTruth),
    firstDifferences: [...d.diffTruth, ...d.diffIamTruth].slice(0, 3),
    calls: Object.fromEntries(Object.entries(p.counters.operations).map(([op, c]) => [op, c.calls])),
    throttled: p.counters.totals.throttled,
    wallS: p.wallMs / 1000,
    floorS: floor.seconds,
    floorScope: floor.scope,
    serviceCpuS: cpuPerCall(p.cpuS, 0).servicesCpuS,
    simCpuS: p.cpuS["aws-sim"] ?? 0,
  };
}

function table(r: GateResult, b: Baseline | null): string[] {
  const row = (figure: string, run: string, base: string, limit: string): string =>
    `  ${figure.padEnd(22)}${run.padEnd(44)}${base.padEnd(12)}${limit}`;
  const calls = totalCalls(r.calls);
  const changed = Object.keys({ ...r.calls, ...b?.calls })
    .sort()
    .filter((op) => (r.calls[op] ?? 0) !== (b?.calls[op] ?? 0))
    .map((op) => `${op} ${r.calls[op] ?? 0} (baseline ${b?.calls[op] ?? 0})`);
  return [
    row("figure", "this run", "baseline", "limit"),
    row("run", `${r.status}, ${r.failedTasks} failed tasks`, "", "succeeded, 0 failed"),
    row(
      "rows vs ground truth",
      r.rowDifferences ? `${r.rowDifferences} differ` : `identical (${r.rows})`,
      "",
      "identical",
    ),
    row("throttled", `${r.throttled} of ${calls}`, "", "0"),
    row(
      "AWS calls",
      `${calls} in ${Object.keys(r.calls).length} operations`,
      b ? String(totalCalls(b.calls)) : "-",
      "≤ baseline per operation",
    ),
    row(
      "wall ÷ floor",
      `${wallOverFloor(r).toFixed(2)} (${r.wallS.toFixed(1)} s on ${r.floorS.toFixed(1)} s)`,
      b ? b.wallOverFloor.toFixed(2) : "-",
      `≤ ${LIMITS.wallOverFloor}`,
    ),
    row(
      "CPU ÷ aws-sim's CPU",
      `${cpuPerSimCpu(r).toFixed(2)} (${r.serviceCpuS.toFixed(2)} CPU s ÷ ${r.simCpuS.toFixed(2)})`,
      b?.cpuPerSimCpu ? b.cpuPerSimCpu.toFixed(2) : "-",
      b?.cpuPerSimCpu
        ? `≤ ${(b.cpuPerSimCpu * LIMITS.cpuFactor).toFixed(2)} (baseline × ${LIMITS.cpuFactor})`
        : "-",
    ),
    row(
      "CPU ms / AWS call",
      `${cpuMsPerCall(r).toFixed(2)} (for reference)`,
      b ? b.cpuMsPerCall.toFixed(2) : "-",
      "depends on the machine",
    ),
    `  floor: ${r.floorScope}; calls per operation ${!b ? "in the baseline written" : changed.length ? `differing from the baseline: ${changed.join(", ")}` : "all equal to the baseline"}`,
  ];
}

async function writeBaseline(file: string, b: Baseline): Promise<void> {
  const options = (await prettier.resolveConfig(file)) ?? {};
  writeFileSync(file, await prettier.format(JSON.stringify(b), { ...options, filepath: file }));
}

function readBaseline(file: string): Baseline | null {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Baseline;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/** Runs the gate; resolves to the process's exit code (0 passed or baseline written, 1 missed). */
export async function runGate(o: { update: boolean; baselineFile: string }): Promise<number> {
  const started = Date.now();
  const baseline = readBaseline(o.baselineFile);
  if (!baseline && !o.update) {
    console.error(
      `bench:gate: no baseline at ${o.baselineFile}; record one with npm run bench:gate -- --update`,
    );
    return 1;
  }
  const iamMapped = iamMappersRegistered();
  const settings: BenchSettings = {
    ...GATE,
    rates: quotaRates(GATE.scale),
    iamMapped,
    iamAll: iamMapped,
    iamAccounts: "all",
    env: {},
    fromSource: false,
    timeoutMin: 5,
  };
  log(
    `gate: ${GATE.preset} (seed ${GATE.seed}), quotas × ${GATE.scale}, latency ${GATE.latency} ms, ${GATE.replicas} fetchers, bundled services`,
  );
  const sim = await startSim(settings);
  const org = await sim.get<OrgDocument>("/_sim/org");
  const p = await runPipeline(sim, settings, { settle: true });
  await sim.stop();
  const r = measure(settings, org, p);
  for (const l of table(r, baseline)) console.log(l);
  console.log(
    `  CPU s during the run: ${Object.entries(p.cpuS)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}; machine busy ${(p.machineBusy * 100).toFixed(0)} %`,
  );
  const took = `${((Date.now() - started) / 1000).toFixed(0)} s`;
  if (o.update) {
    // Against its own baseline only the absolute rules can miss (rows, failures, throttling, wall ÷ floor): a run
    // that misses one of them is no baseline.
    const b = baselineFrom(r, new Date().toISOString());
    const misses = checkGate(r, b);
    for (const m of misses) console.log(`bench:gate: MISS ${m}`);
    if (misses.length) {
      log(`gate: baseline NOT written — this run misses ${misses.length} of the absolute limits (${took})`);
      return 1;
    }
    await writeBaseline(o.baselineFile, b);
    log(`gate: baseline written to ${o.baselineFile} (${took})`);
    return 0;
  }
  const misses = checkGate(r, baseline!);
  for (const m of misses) console.log(`bench:gate: MISS ${m}`);
  log(misses.length ? `gate: ${misses.length} missed (${took})` : `gate: passed (${took})`);
  return misses.length ? 1 : 0;
}

const { values } = parseArgs({
  options: {
    update: { type: "boolean", default: false },
    baseline: { type: "string", default: join(ROOT, "bench/baseline.json") },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
process.once("SIGINT", () => void stopAll(3000).then(() => process.exit(130)));
process.once("SIGTERM", () => void stopAll(3000).then(() => process.exit(143)));
runGate({ update: values.update, baselineFile: values.baseline }).then(
  async (code) => {
    await stopAll(3000);
    process.exit(code);
  },
  async (err: unknown) => {
    console.error("bench:gate failed:", err);
    await stopAll(3000);
    process.exit(1);
  },
);
