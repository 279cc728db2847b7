import { Registry } from "prom-client";
import { describe, expect, it, vi } from "vitest";
import { createMetrics } from "./create-metrics.ts";

describe("createMetrics", () => {
  it("memoizes service metrics by name", () => {
    const m = createMetrics({ service: "s" });
    const a = m.counter("grantline_x_total", "x", ["kind"]);
    expect(m.counter("grantline_x_total", "x", ["kind"])).toBe(a);
    expect(m.gauge("grantline_g", "g")).toBe(m.gauge("grantline_g", "g"));
    expect(m.histogram("grantline_h", "h", [], [1, 2])).toBe(m.histogram("grantline_h", "h"));
  });

  it("rejects one name used with another type or label set", () => {
    const m = createMetrics({ service: "s" });
    m.counter("grantline_y_total", "y", ["a"]);
    expect(() => m.gauge("grantline_y_total", "y", ["a"])).toThrow(/already registered/);
    expect(() => m.counter("grantline_y_total", "y", ["b"])).toThrow(/already registered/);
  });

  it("can share a caller's registry, even twice", async () => {
    const register = new Registry();
    createMetrics({ service: "s", register });
    expect(() => createMetrics({ service: "s", register })).not.toThrow();
    expect(await register.metrics()).toContain("nodejs_heap_size_total_bytes");
  });

  it("samples the event loop every 50 ms, not prom-client's 10: each sample wakes an idle service", async () => {
    const register = new Registry();
    createMetrics({ service: "s", register });
    // A sample is the time between two wake-ups, so the smallest one is the sampling interval (plus any lag);
    // at 10 ms it would read ~0.010. Reading resets the histogram, and the first wake-up after a reset records
    // nothing: read less often than every two intervals. Until a sample is in, it reads huge.
    const lagMin = async () =>
      (await register.getMetricsAsJSON()).find((m) => m.name === "nodejs_eventloop_lag_min_seconds")!
        .values[0]!.value;
    let seen = Infinity;
    await vi.waitFor(
      async () => {
        seen = await lagMin();
        expect(seen).toBeLessThan(1);
      },
      { timeout: 5_000, interval: 150 },
    );
    expect(seen).toBeGreaterThanOrEqual(0.04);
  });
});
