import { describe, expect, it } from "vitest";
import { withBackoff } from "./with-backoff.ts";

const b = { initialMs: 5, maxMs: 10, factor: 2, totalMs: 200 };

describe("withBackoff", () => {
  it("retries until an attempt has a value", async () => {
    let n = 0;
    const v = await withBackoff(b, new AbortController().signal, () =>
      Promise.resolve(++n < 4 ? undefined : n),
    );
    expect(v).toBe(4);
  });

  it("gives up with undefined once totalMs has passed, with delays capped at maxMs", async () => {
    const at: number[] = [];
    const started = performance.now();
    const v = await withBackoff(b, new AbortController().signal, () => {
      at.push(performance.now());
      return Promise.resolve(undefined);
    });
    expect(v).toBeUndefined();
    expect(performance.now() - started).toBeGreaterThanOrEqual(195);
    // Capped: about total / maxMs (20) attempts, not the 6 an uncapped doubling delay would leave.
    expect(at.length).toBeGreaterThan(10);
  });

  it("rejects with the signal's reason when aborted", async () => {
    const ac = new AbortController();
    const p = withBackoff({ ...b, totalMs: 60_000 }, ac.signal, () => Promise.resolve(undefined));
    ac.abort(new Error("shutting down"));
    await expect(p).rejects.toThrow("shutting down");
  });
});
