import { afterEach, describe, expect, it } from "vitest";
import { PermanentError, RetryableError } from "@grantline/contracts";
import { createLogger } from "@grantline/log";
import { waitFor } from "@grantline/testing";
import { CircuitOpenError, createBreakers } from "./breakers.ts";
import type { AwsBreakerEvent, Breakers, BreakersOptions } from "./breakers.ts";

const logger = createLogger({ service: "breakers-test", level: "silent" });
const key = { sourceId: "acme", service: "organizations", account: "self" } as const;
const signal = new AbortController().signal;
const made: Array<Breakers<string>> = [];
afterEach(() => {
  for (const b of made.splice(0)) b.shutdown();
});

function breakers(o: Partial<BreakersOptions>): Breakers<string> {
  const b = createBreakers<string>({ errorPercent: 50, resetMs: 30_000, logger, ...o });
  made.push(b);
  return b;
}

const ok = () => Promise.resolve("ok");
const fail = () => Promise.reject(new RetryableError("AWS server error"));

/** Fires `outcomes` in order ("ok" succeeds, "fail" fails retryably); what each call ended with. */
async function fireAll(b: Breakers<string>, outcomes: Array<"ok" | "fail">): Promise<unknown[]> {
  const results: unknown[] = [];
  for (const o of outcomes)
    results.push(await b.fire(key, o === "ok" ? ok : fail, signal).catch((e: unknown) => e));
  return results;
}

// 3 successes, then failures: after 10 calls 70 % failed, after 11 calls 73 %.
const SEVENTY = [...Array<"ok">(3).fill("ok"), ...Array<"fail">(7).fill("fail")];

describe("createBreakers", () => {
  it("opens once the failure share exceeds errorPercent, not at or below it", async () => {
    const events: AwsBreakerEvent[] = [];
    const b = breakers({ errorPercent: 70, onBreaker: (e) => events.push(e) });
    // At exactly 70 % the circuit stays closed: the next call still reaches AWS.
    await fireAll(b, SEVENTY);
    expect(events).toEqual([]);
    expect(await b.fire(key, fail, signal).catch((e: unknown) => e)).not.toBeInstanceOf(CircuitOpenError);
    // 8 of 11 (73 %) is above 70 %: now calls are refused without running.
    expect(events).toEqual([{ ...key, open: true }]);
    let ran = false;
    const refused = await b
      .fire(
        key,
        () => {
          ran = true;
          return ok();
        },
        signal,
      )
      .catch((e: unknown) => e);
    expect(ran).toBe(false);
    expect(refused).toBeInstanceOf(CircuitOpenError);
    expect(refused).toBeInstanceOf(RetryableError);
    expect((refused as CircuitOpenError).breaker).toEqual(key);
  });

  it("honours a different errorPercent: the same calls that open at 70 % leave it closed at 80 %", async () => {
    const events: AwsBreakerEvent[] = [];
    const b = breakers({ errorPercent: 80, onBreaker: (e) => events.push(e) });
    const results = await fireAll(b, [...SEVENTY, "fail", "ok"]);
    expect(events).toEqual([]);
    expect(results.some((r) => r instanceof CircuitOpenError)).toBe(false);
    expect(results.at(-1)).toBe("ok");
  });

  it("counts only retryable failures: permanent errors never open it", async () => {
    const b = breakers({ errorPercent: 10 });
    const permanent = () => Promise.reject(new PermanentError("invalid-params", "bad request"));
    for (let i = 0; i < 15; i++) {
      expect(await b.fire(key, permanent, signal).catch((e: unknown) => e)).toBeInstanceOf(PermanentError);
    }
    expect(await b.fire(key, ok, signal)).toBe("ok");
  });

  it("refuses for resetMs, then lets a trial call through that closes it; the refusal asks to retry after resetMs", async () => {
    const resetMs = 300;
    const events: AwsBreakerEvent[] = [];
    const b = breakers({ resetMs, onBreaker: (e) => events.push(e) });
    await fireAll(b, Array<"fail">(10).fill("fail"));
    const openedAt = performance.now();
    expect(events).toEqual([{ ...key, open: true }]);
    const refused = await b.fire(key, ok, signal).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CircuitOpenError);
    expect((refused as CircuitOpenError).retryAfterMs).toBe(resetMs);
    const closedAfter = await waitFor(
      async () => {
        const r = await b.fire(key, ok, signal).catch((e: unknown) => e);
        if (r instanceof CircuitOpenError) return null;
        return performance.now() - openedAt;
      },
      { timeoutMs: 10_000, intervalMs: 20, message: "the circuit closes after resetMs" },
    );
    // Not before the reset (opossum's timer may fire a millisecond early); the default (30 s) would time out above.
    expect(closedAfter).toBeGreaterThanOrEqual(resetMs - 5);
    expect(events).toEqual([
      { ...key, open: true },
      { ...key, open: false },
    ]);
  });

  it("keeps one circuit per (source, service, account)", async () => {
    const b = breakers({});
    await fireAll(b, Array<"fail">(10).fill("fail"));
    expect(await b.fire(key, ok, signal).catch((e: unknown) => e)).toBeInstanceOf(CircuitOpenError);
    expect(await b.fire({ ...key, account: "111122223333" }, ok, signal)).toBe("ok");
    expect(await b.fire({ ...key, service: "iam" }, ok, signal)).toBe("ok");
  });

  it("drops a closed circuit unused for a whole window, and runs one timer however many circuits it holds", async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timers();
    const b = breakers({ windowMs: 200 });
    for (let i = 0; i < 50; i++)
      expect(await b.fire({ ...key, account: String(i).padStart(12, "0") }, ok, signal)).toBe("ok");
    expect(b.size()).toBe(50);
    // opossum alone ran two intervals per circuit (bucket rotation, stats snapshots): 100 here.
    expect(timers() - before).toBeLessThanOrEqual(1);
    await waitFor(() => b.size() === 0 || null, {
      timeoutMs: 10_000,
      intervalMs: 20,
      message: "idle circuits dropped",
    });
    expect(timers()).toBeLessThanOrEqual(before);
    // A dropped circuit had nothing left in its window: the next call starts a new one.
    expect(await b.fire(key, ok, signal)).toBe("ok");
    expect(b.size()).toBe(1);
  });

  it("keeps an open circuit however long it is unused, and a circuit whose call is in flight", async () => {
    const b = breakers({ windowMs: 100 });
    await fireAll(b, Array<"fail">(10).fill("fail"));
    let release = (): void => {};
    const slow = b.fire(
      { ...key, service: "iam" },
      () => new Promise<string>((r) => (release = () => r("late"))),
      signal,
    );
    // A third circuit, closed and idle: once it is dropped, a sweep has run past the window.
    expect(await b.fire({ ...key, account: "111122223333" }, ok, signal)).toBe("ok");
    expect(b.size()).toBe(3);
    await waitFor(() => b.size() < 3 || null, {
      timeoutMs: 5_000,
      intervalMs: 20,
      message: "the idle circuit dropped",
    });
    expect(b.size()).toBe(2);
    expect(await b.fire(key, ok, signal).catch((e: unknown) => e)).toBeInstanceOf(CircuitOpenError);
    release();
    expect(await slow).toBe("late");
    await waitFor(() => b.size() === 1 || null, {
      timeoutMs: 5_000,
      intervalMs: 20,
      message: "the idle iam circuit dropped",
    });
    expect(await b.fire(key, ok, signal).catch((e: unknown) => e)).toBeInstanceOf(CircuitOpenError);
  });
});
