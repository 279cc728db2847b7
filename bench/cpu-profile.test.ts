import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cpuPerCall } from "./cpu-per-call.ts";
import { packageOf, summarizeProfile, type CpuProfile } from "./cpu-profile.ts";

const frame = (functionName: string, url = "", lineNumber = 0) => ({ functionName, url, lineNumber });

// root → handle (libs/nats) → parse (zod); plus idle and GC samples. Each sample is charged the time to the next.
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame("(root)") },
    { id: 2, callFrame: frame("handle", "file:///w/libs/nats/src/start-consumer.ts", 10) },
    { id: 3, callFrame: frame("parse", "file:///w/node_modules/zod/v4/core/schemas.js", 99) },
    { id: 4, callFrame: frame("(idle)") },
    { id: 5, callFrame: frame("(garbage collector)") },
  ],
  startTime: 1_000,
  endTime: 7_000,
  samples: [2, 3, 3, 4, 5, 3],
  timeDeltas: [0, 1_000, 1_000, 1_000, 1_000, 1_000],
};

describe("summarizeProfile", () => {
  it("charges self time per function and package, leaving idle out", () => {
    const s = summarizeProfile(profile);
    expect(s.busyMs).toBe(5);
    expect(s.packages.map((p) => [p.name, p.share])).toEqual([
      ["zod", 0.6],
      ["@grantline/nats", 0.2],
      ["(garbage collector)", 0.2],
    ]);
    expect(s.functions[0]?.name).toBe("parse zod/v4/core/schemas.js:100");
  });

  it("charges inclusive time to the deepest grantline frame and the package it called into", () => {
    const withTree: CpuProfile = {
      ...profile,
      nodes: profile.nodes.map((n) => ({ ...n, children: n.id === 1 ? [2, 4, 5] : n.id === 2 ? [3] : [] })),
    };
    expect(summarizeProfile(withTree).callers.map((c) => [c.name, c.share])).toEqual([
      ["handle @grantline/nats → zod", 0.6],
      ["handle @grantline/nats → itself", 0.2],
      ["(no grantline frame) (garbage collector)", 0.2],
    ]);
  });

  it("keeps only the samples inside the window", () => {
    const s = summarizeProfile(profile, { window: { fromUs: 2_500, toUs: 5_500 } });
    // Samples at 3000 µs (parse) and 5000 µs (GC); the one at 4000 µs is idle.
    expect(s.packages.map((p) => p.name).sort()).toEqual(["(garbage collector)", "zod"]);
  });
});

describe("packageOf", () => {
  it("names scoped packages, workspaces, Node's internals and bundles", () => {
    expect(packageOf(frame("f", "file:///a/node_modules/@smithy/core/dist-cjs/index.js"))).toBe(
      "@smithy/core",
    );
    expect(packageOf(frame("f", "file:///a/node_modules/x/node_modules/pino/lib/proto.js"))).toBe("pino");
    expect(packageOf(frame("f", "file:///w/services/fetcher/src/main.ts"))).toBe("services/fetcher");
    expect(packageOf(frame("f", "node:internal/timers"))).toBe("node:internal");
    expect(packageOf(frame("f", "file:///tmp/gl-bench-bundle-x/fetcher.mjs"))).toBe("fetcher.mjs");
    expect(packageOf(frame("(program)"))).toBe("(program)");
  });
});

describe("packageOf in a bundle", () => {
  const dir = mkdtempSync(join(tmpdir(), "gl-cpu-profile-test-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // What esbuild writes: a marker line naming each module before its code.
  const bundle = join(dir, "fetcher.mjs");
  writeFileSync(
    bundle,
    [
      "import { createRequire } from 'node:module';", // 0
      "// node_modules/@smithy/core/dist-es/index.js", // 1
      "function send() {}", // 2
      "// libs/nats/src/start-consumer.ts", // 3
      "function handle() {}", // 4
      "// services/fetcher/src/main.ts", // 5
      "main();", // 6
    ].join("\n"),
  );
  const url = `file://${bundle}`;

  it("names the module esbuild placed at the frame's line", () => {
    expect(packageOf(frame("send", url, 2))).toBe("@smithy/core");
    expect(packageOf(frame("handle", url, 4))).toBe("@grantline/nats");
    expect(packageOf(frame("main", url, 6))).toBe("services/fetcher");
    // Above the first marker (esbuild's own prelude): the bundle itself.
    expect(packageOf(frame("x", url, 0))).toBe("fetcher.mjs");
  });

  it("names functions by their module, and finds the grantline caller inside the bundle", () => {
    const p: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame("(root)"), children: [2] },
        { id: 2, callFrame: frame("handle", url, 4), children: [3] },
        { id: 3, callFrame: frame("send", url, 2) },
      ],
      startTime: 0,
      endTime: 2_000,
      samples: [3, 3],
      timeDeltas: [0, 1_000],
    };
    const s = summarizeProfile(p);
    expect(s.functions[0]?.name).toBe("send @smithy/core/dist-es/index.js");
    expect(s.callers[0]?.name).toBe("handle @grantline/nats → @smithy/core");
  });
});

describe("cpuPerCall", () => {
  it("divides each process's and the services' CPU by the calls, services first", () => {
    const c = cpuPerCall({ "aws-sim": 1, scheduler: 0.5, "fetcher-1": 2, "fetcher-2": 2, writer: 1 }, 1000);
    expect(c.servicesCpuS).toBe(5.5);
    expect(c.servicesMsPerCall).toBeCloseTo(5.5);
    expect(c.processes.map((p) => p.name)).toEqual([
      "scheduler",
      "fetcher-1",
      "fetcher-2",
      "writer",
      "aws-sim",
    ]);
    expect(c.processes.find((p) => p.name === "aws-sim")).toMatchObject({ service: false, msPerCall: 1 });
    expect(cpuPerCall({ mapper: 1 }, 0).servicesMsPerCall).toBe(Infinity);
  });
});
