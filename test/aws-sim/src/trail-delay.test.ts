import { describe, expect, it } from "vitest";
import type { TrailDelay } from "./trail-delay.ts";
import { maxTrailDelayMs, parseTrailDelay, trailDelaySampler } from "./trail-delay.ts";

const draw = (d: TrailDelay, seed: number, n: number): number[] => {
  const s = trailDelaySampler(d, seed);
  return Array.from({ length: n }, () => s());
};
const quantile = (xs: number[], q: number): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(q * xs.length)]!;

describe("CloudTrail delivery delay distributions", () => {
  it("are deterministic for a seed and differ between seeds", () => {
    const d: TrailDelay = { kind: "lognormal", medianMs: 1000, p95Ms: 5000 };
    expect(draw(d, 7, 50)).toEqual(draw(d, 7, 50));
    expect(draw(d, 7, 50)).not.toEqual(draw(d, 8, 50));
  });

  it("lognormal hits the configured median and p95 and never exceeds maxMs", () => {
    const xs = draw({ kind: "lognormal", medianMs: 2000, p95Ms: 10_000 }, 3, 40_000);
    expect(quantile(xs, 0.5)).toBeGreaterThan(1800);
    expect(quantile(xs, 0.5)).toBeLessThan(2200);
    expect(quantile(xs, 0.95)).toBeGreaterThan(9000);
    expect(quantile(xs, 0.95)).toBeLessThan(11_000);
    const capped = draw({ kind: "lognormal", medianMs: 2000, p95Ms: 10_000, maxMs: 6000 }, 3, 5000);
    expect(Math.max(...capped)).toBe(6000);
    expect(Math.min(...capped)).toBeGreaterThanOrEqual(0);
  });

  it("uniform stays within [minMs, maxMs] and spreads; fixed is constant", () => {
    const xs = draw({ kind: "uniform", minMs: 100, maxMs: 300 }, 1, 5000);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...xs)).toBeLessThanOrEqual(300);
    expect(quantile(xs, 0.5)).toBeGreaterThan(180);
    expect(quantile(xs, 0.5)).toBeLessThan(220);
    expect(new Set(draw({ kind: "fixed", ms: 42 }, 1, 100))).toEqual(new Set([42]));
  });

  it("parses the CLI forms and rejects nonsense", () => {
    expect(parseTrailDelay("5000")).toEqual({ kind: "fixed", ms: 5000 });
    expect(parseTrailDelay("uniform:10-20")).toEqual({ kind: "uniform", minMs: 10, maxMs: 20 });
    expect(parseTrailDelay("lognormal:300000,900000,1800000")).toEqual({
      kind: "lognormal",
      medianMs: 300_000,
      p95Ms: 900_000,
      maxMs: 1_800_000,
    });
    expect(parseTrailDelay('{"kind":"fixed","ms":3}')).toEqual({ kind: "fixed", ms: 3 });
    expect(() => parseTrailDelay("uniform:20-10")).toThrow(/minMs <= maxMs/);
    expect(() => parseTrailDelay("soon")).toThrow(/--cloudtrail-delay/);
    expect(maxTrailDelayMs({ kind: "lognormal", medianMs: 1, p95Ms: 2 })).toBe(Infinity);
    expect(maxTrailDelayMs({ kind: "uniform", minMs: 1, maxMs: 9 })).toBe(9);
  });
});
