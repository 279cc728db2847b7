import { mkdtempSync, writeFileSync } from "node:fs";
import { connect as connectTcp, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSubjects } from "@grantline/contracts";
import { createTestDatabase, testInfra, uniqueName, waitFor, type TestDatabase } from "@grantline/testing";
import { spawnService, type ServiceName } from "./pipeline-harness.ts";

/** Removes the streams (and blob bucket) a spawned service created under its own prefix. */
async function deleteStreamsOf(subjects: ReturnType<typeof createSubjects>): Promise<void> {
  const nc = await connect({ servers: testInfra().natsUrl });
  const jsm = await jetstreamManager(nc);
  const blobs = `OBJ_${subjects.streams.batches.replace(/_BATCH$/, "")}_BLOBS`;
  for (const stream of [...Object.values(subjects.streams), blobs])
    await jsm.streams.delete(stream).catch(() => undefined);
  await nc.close();
}

describe("service start-up", () => {
  it.each<[ServiceName, Record<string, string>, RegExp]>([
    [
      "scheduler",
      { SOURCES_FILE: "/nonexistent/sources.yaml" },
      /^scheduler: invalid configuration: SOURCES_FILE: cannot read/,
    ],
    ["fetcher", { REDIS_URL: "http://not-redis" }, /^fetcher: invalid configuration: REDIS_URL: /],
    ["mapper", { MAX_IN_FLIGHT: "lots" }, /^mapper: invalid configuration: MAX_IN_FLIGHT: /],
    [
      "mapper",
      { NATS_URL: "http://nats:4222" },
      /^mapper: invalid configuration: NATS_URL: "http:\/\/nats:4222" is not a NATS server URL/,
    ],
    ["writer", { DATABASE_URL: "mysql://x" }, /^writer: invalid configuration: DATABASE_URL: /],
  ])(
    "%s refuses bad configuration with one line naming the field and exit code 2",
    async (name, env, message) => {
      const s = spawnService(name, { SOURCES_FILE: "/dev/null", ...env });
      expect(await s.exited).toEqual({ code: 2, signal: null });
      const out = s.output.join("");
      expect(out.trim().split("\n")).toHaveLength(1);
      expect(out).toMatch(message);
      expect(out).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
    },
  );
});

describe("start-up failures", () => {
  it("a service that cannot start logs one fatal line through its logger and exits 1", async () => {
    // The probe port is taken: everything else starts, then binding it fails.
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    const port = (taken.address() as { port: number }).port;
    const subjects = createSubjects(uniqueName("fatal"));
    try {
      const s = spawnService("mapper", {
        NATS_URL: testInfra().natsUrl,
        GL_SUBJECT_PREFIX: subjects.prefix,
        PROBE_HOST: "127.0.0.1",
        PROBE_PORT: String(port),
      });
      expect(await s.exited).toEqual({ code: 1, signal: null });
      const fatal = s.output
        .join("")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { level: string; service: string; msg: string; err?: { code?: string } })
        .filter((l) => l.level === "fatal");
      expect(fatal).toEqual([
        expect.objectContaining({
          service: "mapper",
          msg: "mapper failed to start",
          err: expect.objectContaining({ code: "EADDRINUSE" }),
        }),
      ]);
    } finally {
      await new Promise((r) => taken.close(r));
      await deleteStreamsOf(subjects);
    }
  });
});

describe("start-up that never hides", () => {
  it("with NATS unreachable, /readyz answers at once saying what start-up waits for; ready once NATS is there", async () => {
    // A port nothing listens on yet: later a proxy to the real NATS opens on it.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const natsPort = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const subjects = createSubjects(uniqueName("late"));
    const s = spawnService("mapper", {
      NATS_URL: `nats://127.0.0.1:${natsPort}`,
      GL_SUBJECT_PREFIX: subjects.prefix,
      PROBE_HOST: "127.0.0.1",
      PROBE_PORT: "0",
    });
    const real = new URL(testInfra().natsUrl);
    const proxy = createServer((c) => {
      const up = connectTcp(Number(real.port || 4222), real.hostname);
      c.pipe(up).pipe(c);
      up.on("error", () => c.destroy());
      c.on("error", () => up.destroy());
    });
    try {
      const lines = () =>
        s.output
          .join("")
          .split("\n")
          .filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l) as { msg: string; port?: number; level: string });
      const probePort = await waitFor(() => lines().find((l) => l.msg === "probe server listening")?.port);
      const waiting = await waitFor(() => lines().find((l) => /^waiting for NATS at/.test(l.msg)));
      expect(waiting.level).toBe("warn");
      const notReady = await fetch(`http://127.0.0.1:${probePort}/readyz`);
      expect(notReady.status).toBe(503);
      // What start-up waits for is in the log; the probe body names the check only (no hosts, no errors).
      const body = (await notReady.json()) as { checks: { startup: { ok: boolean; error?: string } } };
      expect(body.checks.startup).toMatchObject({ ok: false });
      expect(body.checks.startup.error).toBeUndefined();
      expect(waiting.msg).toMatch(new RegExp(`waiting for NATS at nats://127.0.0.1:${natsPort}`));

      await new Promise<void>((r) => proxy.listen(natsPort, "127.0.0.1", r));
      await waitFor(async () => (await fetch(`http://127.0.0.1:${probePort}/readyz`)).status === 200, {
        timeoutMs: 30_000,
      });
      expect(lines().some((l) => l.msg === "mapper started")).toBe(true);
    } finally {
      s.child.kill("SIGKILL");
      await s.exited;
      proxy.close();
      await deleteStreamsOf(subjects);
    }
  });
});

describe("sources file checked at start", () => {
  it.each<[string, unknown, RegExp]>([
    [
      "a bad role ARN",
      { sources: [{ id: "a", assumeRole: [{ roleArn: "arn:aws:iam::123:role/x" }] }] },
      /sources\.0\.assumeRole\.0\.roleArn: must be an IAM role ARN/,
    ],
    [
      "a bad external id",
      {
        sources: [
          { id: "a", assumeRole: [{ roleArn: "arn:aws:iam::123456789012:role/R", externalId: "x" }] },
        ],
      },
      /externalId: must be 2–1224 characters/,
    ],
    ["no sources", { sources: [] }, /at least one source/],
  ])(
    "%s stops the scheduler and the fetcher with one clear line, nothing half-started",
    async (_what, doc, message) => {
      const dir = mkdtempSync(join(tmpdir(), "gl-src-"));
      const file = join(dir, "sources.json");
      writeFileSync(file, JSON.stringify(doc));
      for (const name of ["scheduler", "fetcher"] as const) {
        const s = spawnService(name, {
          SOURCES_FILE: file,
          NATS_URL: testInfra().natsUrl,
          GL_SUBJECT_PREFIX: uniqueName("bad"),
        });
        expect(await s.exited).toEqual({ code: 2, signal: null });
        const out = s.output.join("").trim();
        expect(out.split("\n")).toHaveLength(1);
        expect(out).toMatch(message);
      }
    },
  );
});

describe("secrets in logs", () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(testInfra().databaseUrl);
  });
  afterAll(async () => {
    await tdb.drop();
  });

  it("a password in DATABASE_URL never reaches the writer's log output", async () => {
    const secret = `pw-${uniqueName()}`;
    const url = new URL(tdb.url);
    url.password = secret; // trust auth ignores it, so the writer connects and logs its config
    const s = spawnService("writer", {
      NATS_URL: testInfra().natsUrl,
      DATABASE_URL: url.toString(),
      GL_SUBJECT_PREFIX: uniqueName("sec"),
      PROBE_PORT: "0",
      LOG_LEVEL: "debug",
    });
    try {
      await waitFor(() => s.output.join("").includes("writer started"), { timeoutMs: 30_000 });
      const out = s.output.join("");
      expect(out).toContain(tdb.name);
      expect(out).not.toContain(secret);
    } finally {
      s.child.kill("SIGKILL");
      await s.exited;
    }
  });
});
