import { describe, expect, it, vi } from "vitest";
import { createLogger } from "@grantline/log";
import { createDeriver } from "./deriver.ts";

const logger = createLogger({ service: "test", level: "silent" });

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("the deriver", () => {
  it("runs beside the tick, one round at a time, until nothing is owed", async () => {
    const owed = new Set(["a"]);
    const derived: string[] = [];
    const gate = deferred();
    let kicks = 0;
    const deriver = createDeriver({
      isLeader: () => true,
      owing: async () => [...owed],
      derive: async (sourceId) => {
        await gate.promise;
        derived.push(sourceId);
        owed.delete(sourceId);
        // A refresh run of "b" ended during this derivation: the round goes again for it.
        if (sourceId === "a" && derived.length === 1) owed.add("b");
        return { runId: `run-${sourceId}`, events: {}, chains: 0 };
      },
      kickOutbox: () => kicks++,
      logger,
    });
    await deriver.step(); // returns at once: the round waits on the gate in the background
    await deriver.step(); // a round is running: no second one
    expect(derived).toEqual([]);
    gate.resolve();
    await vi.waitFor(() => expect(derived).toEqual(["a", "b"]));
    await deriver.stop();
    expect(kicks).toBe(2);
  });

  it("a standby derives nothing; a failing round is logged and the next step tries again", async () => {
    let leader = false;
    let calls = 0;
    const deriver = createDeriver({
      isLeader: () => leader,
      owing: async () => {
        calls++;
        if (calls === 1) throw new Error("database is down");
        return [];
      },
      derive: async () => null,
      kickOutbox: () => undefined,
      logger,
    });
    await deriver.step();
    expect(calls).toBe(0);
    leader = true;
    await deriver.step();
    await deriver.stop();
    expect(calls).toBe(1);
  });
});
