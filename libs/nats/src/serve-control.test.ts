import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@grantline/log";
import { waitFor } from "@grantline/testing";
import { serveControl, type ControlHandlers, type ControlServer } from "./serve-control.ts";
import { openTestStreams, type TestStreams } from "./test-streams.ts";

const logger = createLogger({ service: "test", level: "silent" });
let t: TestStreams;
let server: ControlServer;
const seen: unknown[] = [];
let release: (() => void) | null = null;

const handlers: ControlHandlers = {
  sync: async (req) => {
    seen.push(req);
    if (req.sourceId === "boom") throw new Error("database is down");
    return { ok: true, runId: randomUUID(), alreadyRunning: false };
  },
  status: async (req) => {
    seen.push(req);
    return { ok: true, runs: [] };
  },
  refresh: async (req) => {
    seen.push(req);
    return { ok: true, runId: null, queued: 0, waitingFor: null };
  },
  grant: async (req) => {
    seen.push(req);
    return { ok: false, error: "not here" };
  },
  revoke: async (req) => {
    seen.push(req);
    return { ok: false, error: "not here" };
  },
  grants: async (req) => {
    seen.push(req);
    return { ok: true, requests: [] };
  },
  cancel: (req, ctx) =>
    // Held until the test releases it, or until stop() gives up and aborts the signal.
    new Promise((resolve) => {
      release = () => resolve({ ok: false, error: `released ${req.runId}` });
      ctx.signal.addEventListener("abort", () => resolve({ ok: false, error: "aborted" }));
    }),
};

beforeAll(async () => {
  t = await openTestStreams("ctl");
  server = serveControl({ nc: t.nc, subjects: t.subjects, handlers, logger, queue: "test" });
});
afterAll(async () => {
  await server.stop(100);
  await t.close();
});

const ask = async (verb: "sync" | "status" | "cancel", body: string) =>
  (await t.nc.request(t.subjects.ctl(verb), body, { timeout: 5000 })).json<Record<string, unknown>>();

describe("serveControl", () => {
  it("hands each verb's handler its request parsed against the verb's schema (defaults applied)", async () => {
    expect(await ask("sync", JSON.stringify({ sourceId: "acme" }))).toMatchObject({ ok: true });
    expect(await ask("status", "")).toEqual({ ok: true, runs: [] });
    expect(seen).toEqual([{ sourceId: "acme", kind: "full" }, {}]);
  });

  it("answers a malformed request with a reply naming the field, without calling the handler", async () => {
    seen.length = 0;
    expect(await ask("sync", "{not json")).toEqual({ ok: false, error: "bad sync request: not JSON" });
    expect(await ask("sync", JSON.stringify({ sourceId: "a b" }))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^bad sync request: sourceId: /),
    });
    expect(await ask("cancel", JSON.stringify({ runId: "nope" }))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^bad cancel request: runId: /),
    });
    expect(seen).toEqual([]);
  });

  it("turns a throwing handler into an internal-error reply instead of a caller's timeout", async () => {
    expect(await ask("sync", JSON.stringify({ sourceId: "boom" }))).toEqual({
      ok: false,
      error: "internal error: database is down",
    });
  });

  it("stop() waits for a request being answered, then aborts it after the grace period", async () => {
    const runId = randomUUID();
    const first = ask("cancel", JSON.stringify({ runId }));
    (await waitFor(() => release))();
    release = null;
    expect(await first).toEqual({ ok: false, error: `released ${runId}` });

    const held = ask("cancel", JSON.stringify({ runId }));
    await waitFor(() => release);
    await server.stop(100);
    expect(await held).toEqual({ ok: false, error: "aborted" });
    await expect(ask("status", "")).rejects.toThrow(/no responders/i);
  });
});
