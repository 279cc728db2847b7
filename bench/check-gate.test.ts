import { describe, expect, it } from "vitest";
import {
  baselineFrom,
  checkGate,
  cpuMsPerCall,
  cpuPerSimCpu,
  type Baseline,
  type GateResult,
} from "./check-gate.ts";

const settings = { preset: "small", seed: 1, scale: 0.5, latency: "30-80", replicas: 2 };

function run(over: Partial<GateResult> = {}): GateResult {
  return {
    settings,
    status: "succeeded",
    failedTasks: 0,
    rows: 900,
    rowDifferences: 0,
    firstDifferences: [],
    calls: { "sso:ListAccountAssignments": 300, "identitystore:ListUsers": 100 },
    throttled: 0,
    wallS: 31,
    floorS: 30,
    floorScope: "sso-admin (all operations)",
    serviceCpuS: 4,
    simCpuS: 0.5,
    ...over,
  };
}

const baseline: Baseline = baselineFrom(run(), "2026-12-01T00:00:00.000Z");

describe("checkGate", () => {
  it("passes a run like the baseline's", () => {
    expect(baseline).toMatchObject({ cpuMsPerCall: 10, cpuPerSimCpu: 8 });
    expect(checkGate(run(), baseline)).toEqual([]);
  });

  it("passes fewer calls, a slower run up to 1.25 × floor and CPU up to 1.5 × the baseline's per aws-sim CPU", () => {
    const r = run({
      calls: { "sso:ListAccountAssignments": 290, "identitystore:ListUsers": 100 },
      wallS: 37.5,
      serviceCpuS: 5.85,
    });
    expect(cpuMsPerCall(r)).toBe(15);
    expect(cpuPerSimCpu(r)).toBeCloseTo(11.7);
    expect(checkGate(r, baseline)).toEqual([]);
  });

  it("judges CPU against aws-sim's in the same run: a slower machine is not a slower grantline", () => {
    // The same code on a machine 1.7 × slower: every process's CPU, aws-sim's too, 1.7 × the baseline's.
    const slowerMachine = run({ serviceCpuS: 4 * 1.7, simCpuS: 0.5 * 1.7 });
    expect(cpuMsPerCall(slowerMachine)).toBeGreaterThan(baseline.cpuMsPerCall * 1.5);
    expect(checkGate(slowerMachine, baseline)).toEqual([]);
    // grantline 1.7 × slower on the same machine: missed.
    expect(checkGate(run({ serviceCpuS: 4 * 1.7 }), baseline)).toEqual([
      "CPU of the services per CPU of aws-sim: 13.60 (6.80 CPU s ÷ 0.50; 17.00 ms per AWS call) > 12.00 (baseline 8.00 × 1.5)",
    ]);
  });

  it("misses a failed run, wrong rows and throttling, one line each", () => {
    const misses = checkGate(
      run({
        status: "failed",
        failedTasks: 2,
        rowDifferences: 3,
        firstDifferences: ["missing grant a", "extra grant b", "missing resource c", "more"],
        throttled: 4,
      }),
      baseline,
    );
    expect(misses).toEqual([
      "run: failed with 2 failed tasks (want succeeded, 0 failed)",
      "rows: 3 differences from the ground truth (want identical), e.g. missing grant a; extra grant b; missing resource c",
      expect.stringMatching(/^throttled: 4 of 400 AWS calls throttled/),
    ]);
  });

  it("names every operation above its baseline, new operations included, in one line", () => {
    const misses = checkGate(
      run({
        calls: { "sso:ListAccountAssignments": 600, "identitystore:ListUsers": 100, "iam:ListUsers": 7 },
        floorS: 60,
        wallS: 61,
        serviceCpuS: 7,
        simCpuS: 0.9,
      }),
      baseline,
    );
    expect(misses).toHaveLength(1);
    expect(misses[0]).toMatch(
      /^AWS calls per operation above the baseline: iam:ListUsers 7 > 0, sso:ListAccountAssignments 600 > 300 \(707 calls in all, baseline 400;/,
    );
  });

  it("misses wall ÷ floor over 1.25 and CPU over 1.5 × the baseline, all misses together", () => {
    const misses = checkGate(
      run({ wallS: 40, serviceCpuS: 6.4, calls: { ...baseline.calls, "sso:ListInstances": 1 } }),
      baseline,
    );
    expect(misses).toEqual([
      expect.stringMatching(/^AWS calls per operation above the baseline: sso:ListInstances 1 > 0 /),
      "wall ÷ floor: 1.33 (40.0 s on a 30.0 s floor, sso-admin (all operations)) > 1.25",
      "CPU of the services per CPU of aws-sim: 12.80 (6.40 CPU s ÷ 0.50; 15.96 ms per AWS call) > 12.00 (baseline 8.00 × 1.5)",
    ]);
  });

  it("refuses to compare with a baseline recorded under other settings", () => {
    const misses = checkGate(run({ settings: { ...settings, scale: 1, seed: 2 } }), baseline);
    expect(misses).toEqual([
      "settings: the baseline was recorded with seed 1, scale 0.5, this run used seed 2, scale 1 — figures are not comparable; re-record with --update",
    ]);
  });

  it("refuses a baseline recorded before the ratio was measured, rather than passing every CPU", () => {
    const { cpuPerSimCpu: _dropped, ...old } = baseline;
    expect(checkGate(run(), old)).toEqual([
      "CPU of the services per CPU of aws-sim: the baseline has no cpuPerSimCpu (recorded before it was measured); re-record with --update",
    ]);
  });

  it("misses a run with no floor or no aws-sim CPU rather than dividing by zero", () => {
    const misses = checkGate(run({ calls: {}, floorS: 0, simCpuS: 0 }), baseline);
    expect(misses).toEqual([
      expect.stringMatching(/^wall ÷ floor: Infinity/),
      expect.stringMatching(/^CPU of the services per CPU of aws-sim: Infinity/),
    ]);
  });
});

describe("baselineFrom", () => {
  it("records the settings, calls sorted by operation and the figures rounded", () => {
    const b = baselineFrom(
      run({ calls: { b: 2, a: 1 }, serviceCpuS: 0.1, wallS: 10, floorS: 9.123 }),
      "2026-12-01T00:00:00.000Z",
    );
    expect(Object.keys(b.calls)).toEqual(["a", "b"]);
    expect(b).toMatchObject({
      settings,
      cpuMsPerCall: 33.33,
      cpuPerSimCpu: 0.2,
      floorS: 9.12,
      wallOverFloor: 1.096,
    });
  });
});
