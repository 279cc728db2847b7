// `npm run bench -- --second-run`: the first and second full sync of one organization side by side. The second runs
// on the same services and Redis, so the permission sets the first described are answered from the cache; what it
// saves is those describe calls, all in the SSO Admin quota scope that sets the medium organization's floor.
import { DESCRIBE_PERMISSION_SET_CALLS } from "@grantline/aws";
import { totalCalls } from "./check-gate.ts";
import { isService } from "./cpu-per-call.ts";
import { diffCount, type RowDiffs } from "./compare-rows.ts";
import type { Rates, ScopeFloor } from "./floor.ts";
import { sec } from "./format.ts";
import type { PipelineResult } from "./run-pipeline.ts";

/** What the comparison reads of a run. */
type Measured = Pick<PipelineResult, "counters" | "cpuS" | "wallMs" | "status" | "tasks" | "failedTasks">;

/** The second run of `--second-run`, with its own floor and row comparison against the ground truth. */
export interface SecondRun {
  run: Measured;
  floor: ScopeFloor;
  diffs: RowDiffs;
}

/**
 * The composite DescribePermissionSet's AWS calls (describe, policy lists, inline policy, boundary) in a run, and
 * those of them the floor counts (not throttled, no error: a set without a boundary answers NotFound).
 */
export function describeCalls(c: Measured["counters"]): { calls: number; successful: number } {
  let calls = 0;
  let successful = 0;
  for (const op of DESCRIBE_PERMISSION_SET_CALLS) {
    const o = c.operations[`sso:${op}`];
    calls += o?.calls ?? 0;
    successful += o ? o.calls - o.throttled - o.errors : 0;
  }
  return { calls, successful };
}

function runFigures(p: Measured, floor: ScopeFloor, diffs: RowDiffs) {
  const calls = totalCalls(
    Object.fromEntries(Object.entries(p.counters.operations).map(([k, v]) => [k, v.calls])),
  );
  const serviceCpuS = Object.entries(p.cpuS)
    .filter(([name]) => isService(name))
    .reduce((s, [, v]) => s + v, 0);
  return {
    status: p.status,
    tasks: p.tasks,
    failedTasks: p.failedTasks,
    awsCalls: calls,
    describeCalls: describeCalls(p.counters).calls,
    describeCallsSuccessful: describeCalls(p.counters).successful,
    floorS: Number(floor.seconds.toFixed(2)),
    floorScope: floor.scope,
    wallS: Number((p.wallMs / 1000).toFixed(2)),
    wallOverFloor: Number((p.wallMs / 1000 / floor.seconds).toFixed(3)),
    serviceCpuS: Number(serviceCpuS.toFixed(1)),
    cpuMsPerCall: calls > 0 ? Number(((serviceCpuS * 1000) / calls).toFixed(2)) : null,
    rowsMatchTruth: diffs.diffTruth.length === 0 && diffs.diffIamTruth.length === 0,
    rowDifferences: diffCount(diffs.diffTruth) + diffCount(diffs.diffIamTruth),
  };
}

/** Both runs' figures, as the table and the JSON line state them. */
export function secondRunFigures(
  first: { p: Measured; floor: ScopeFloor; diffs: RowDiffs },
  second: SecondRun,
  rates: Rates,
) {
  const a = runFigures(first.p, first.floor, first.diffs);
  const b = runFigures(second.run, second.floor, second.diffs);
  const saved = a.describeCalls - b.describeCalls;
  // Every describe call is an SSO Admin call: the floor drops by what its successful ones cost in that scope, when
  // that scope decides the floor in both runs.
  const floorSaved = (a.describeCallsSuccessful - b.describeCallsSuccessful) / rates.sso;
  return { first: a, second: b, describeCallsSaved: saved, floorSavedIfSsoBoundS: floorSaved };
}

/** The `--second-run` section of a full-sync report. */
export function secondRunReport(
  first: { p: Measured; floor: ScopeFloor; diffs: RowDiffs },
  second: SecondRun,
  rates: Rates,
): string[] {
  const f = secondRunFigures(first, second, rates);
  const { first: a, second: b } = f;
  const row = (figure: string, x: string, y: string): string => `| ${figure} | ${x} | ${y} |`;
  const floorSaved = a.floorS - b.floorS;
  return [
    `\n### Second run (same services and Redis: the permission-set cache the first run filled)\n`,
    `| figure | first run | second run |`,
    `| --- | ---: | ---: |`,
    row(
      "run status",
      `${a.status} (${a.tasks} tasks, ${a.failedTasks} failed)`,
      `${b.status} (${b.tasks} tasks, ${b.failedTasks} failed)`,
    ),
    row("AWS calls", String(a.awsCalls), String(b.awsCalls)),
    row(
      `permission-set describe calls (${DESCRIBE_PERMISSION_SET_CALLS.length} operations)`,
      String(a.describeCalls),
      String(b.describeCalls),
    ),
    row(
      "rate-limit floor",
      `${a.floorS.toFixed(1)} s (${a.floorScope})`,
      `${b.floorS.toFixed(1)} s (${b.floorScope})`,
    ),
    row("wall time", sec(a.wallS * 1000), sec(b.wallS * 1000)),
    row("wall ÷ floor", a.wallOverFloor.toFixed(2), b.wallOverFloor.toFixed(2)),
    row("CPU seconds, grantline services", String(a.serviceCpuS), String(b.serviceCpuS)),
    row("CPU ms per AWS call, grantline services", String(a.cpuMsPerCall), String(b.cpuMsPerCall)),
    row(
      "rows vs ground truth",
      a.rowsMatchTruth ? "identical" : `${a.rowDifferences} differences`,
      b.rowsMatchTruth ? "identical" : `${b.rowDifferences} differences`,
    ),
    `\nThe second run made ${f.describeCallsSaved} fewer describe calls (${a.describeCallsSuccessful - b.describeCallsSuccessful} fewer successful ones); at sso-admin ${rates.sso}/s they are ${f.floorSavedIfSsoBoundS.toFixed(1)} s of floor when that scope decides it. Floor ${floorSaved >= 0 ? "lower" : "higher"} by ${Math.abs(floorSaved).toFixed(1)} s, wall time ${b.wallS <= a.wallS ? "lower" : "higher"} by ${sec(Math.abs(a.wallS - b.wallS) * 1000)}.`,
  ];
}
