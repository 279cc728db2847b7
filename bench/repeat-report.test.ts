import { describe, expect, it } from "vitest";
import { median, repeatCount, repeatReport, type RepeatRun } from "./repeat-report.ts";

const run = (simS: number, fetchers: number, writer: number, ok = true): RepeatRun => ({
  status: ok ? "succeeded" : "failed",
  wallOverFloor: 1.04,
  cpuS: { "fetcher-1": fetchers / 2, "fetcher-2": fetchers / 2, writer, "aws-sim": simS, postgres: 9 },
  cpuMsPerCall: 10,
  cpuPerSimCpu: Math.round(((fetchers + writer) / simS) * 100) / 100,
  rowsMatchTruth: ok,
  maxRssMb: 200,
});

describe("repeatReport", () => {
  it("gives the median and range of the ratio, per service with fetcher replicas together, and counts good runs", () => {
    const lines = repeatReport("medium", [run(2, 12, 8), run(2.5, 13, 9), run(2, 14, 10, false)]).join("\n");
    // Ratios 10, 8.8, 12: median 10.
    expect(lines).toContain(
      "| services ÷ aws-sim CPU (machine-independent; issue 17's 4.5 ms ≈ 5.6) | **10** (8.8–12) |",
    );
    // fetchers ÷ aws-sim: 6, 5.2, 7; writer: 4, 3.6, 5. Postgres is not a service.
    expect(lines).toContain("| fetchers ÷ aws-sim CPU | **6** (5.2–7) |");
    expect(lines).toContain("| writer ÷ aws-sim CPU | **4** (3.6–5) |");
    expect(lines).not.toContain("postgres ÷");
    expect(lines).toContain("| runs succeeded, rows equal to the ground truth | 2 of 3 |");
  });

  it("takes the middle of an even count as the mean of the two middle values", () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5])).toBe(5);
  });
});

describe("repeatCount", () => {
  const full = { otherMode: false, cpuProf: false };
  it("takes a whole number of runs ≥ 1, and refuses anything else up front", () => {
    expect(repeatCount({ ...full, repeat: "1" })).toBe(1);
    expect(repeatCount({ ...full, repeat: "3" })).toBe(3);
    for (const bad of ["0", "-2", "1.5", "three", ""])
      expect(() => repeatCount({ ...full, repeat: bad })).toThrow(/whole number ≥ 1/);
  });

  it("refuses to repeat what it does not repeat, or to profile several runs; one run goes with either", () => {
    expect(() => repeatCount({ repeat: "2", otherMode: true, cpuProf: false })).toThrow(/full sync only/);
    expect(() => repeatCount({ repeat: "2", otherMode: false, cpuProf: true })).toThrow(/--cpu-prof/);
    expect(repeatCount({ repeat: "1", otherMode: true, cpuProf: true })).toBe(1);
  });
});
