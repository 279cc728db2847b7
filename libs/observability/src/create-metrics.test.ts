import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
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
});
