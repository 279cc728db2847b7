import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DeadLetter, RetryableError, type PageRequest } from "@grantline/contracts";
import { createLogger } from "@grantline/log";
import type { MessageContext } from "@grantline/nats";
import { createSourceHealth } from "./source-health.ts";

const logger = createLogger({ service: "test", level: "silent" });
const unreachable = () =>
  new RetryableError("AWS endpoint unreachable: connect ECONNREFUSED", { giveUpAfterMs: 300_000 });
const throttled = () => new RetryableError("throttled", { retryAfterMs: 1000 });

function setup() {
  let clock = 0;
  const gauge = new Map<string, number>();
  const letters: Array<{ letter: DeadLetter; msgID: string }> = [];
  const health = createSourceHealth({
    notify: async (letter, msgID) => void letters.push({ letter: DeadLetter.parse(letter), msgID }),
    failingGauge: { set: ({ source }, v) => void gauge.set(source, v) },
    giveUpAfterMs: 300_000,
    logger,
    now: () => clock,
  });
  let next: (() => Error) | undefined;
  const handler = health.observe(async () => {
    if (next) throw next();
  });
  const runId = randomUUID();
  const call = async (sourceId: string, fail?: () => Error) => {
    next = fail;
    const req = { sourceId, runId, taskId: randomUUID() } as PageRequest;
    const ctx = { subject: `gl.page.req.${sourceId}.iam`, seq: 1, deliveryCount: 1 } as MessageContext;
    await handler(req, ctx).catch(() => undefined);
  };
  return { health, gauge, letters, call, runId, tick: (ms: number) => (clock += ms) };
}

describe("source health", () => {
  it("a source is failing after two 'not answering' failures in a row: gauge, readiness detail, one notice per run", async () => {
    const h = setup();
    await h.call("acme", unreachable);
    expect(h.health.degraded()).toEqual({});
    await h.call("acme", unreachable);
    await h.call("acme", unreachable);
    expect(h.gauge.get("acme")).toBe(1);
    expect(h.health.degraded().sources?.acme).toMatchObject({ failures: 3, error: /ECONNREFUSED/ });
    expect(h.letters).toHaveLength(1);
    expect(h.letters[0]?.letter).toMatchObject({ notice: true, runId: h.runId, reason: "source-failing" });
    expect(h.letters[0]?.letter.error).toMatch(/source acme failing since .*AWS_UNAVAILABLE_GIVE_UP_MS/);

    // One success and it is answering again.
    await h.call("acme");
    expect(h.gauge.get("acme")).toBe(0);
    expect(h.health.degraded()).toEqual({});
  });

  it("throttling and other sources do not count; a source no longer retried is forgotten", async () => {
    const h = setup();
    for (let i = 0; i < 5; i++) await h.call("busy", throttled);
    await h.call("gone", unreachable);
    await h.call("other");
    await h.call("gone", unreachable);
    expect(Object.keys(h.health.degraded().sources ?? {})).toEqual(["gone"]);
    h.tick(120_001);
    expect(h.health.degraded()).toEqual({});
    expect(h.gauge.get("gone")).toBe(0);
  });
});
