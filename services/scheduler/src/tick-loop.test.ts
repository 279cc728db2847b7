import { describe, expect, it } from "vitest";
import { createLogger } from "@grantline/log";
import { waitFor } from "@grantline/testing";
import { startTickLoop } from "./tick-loop.ts";

const logger = createLogger({ service: "test", level: "silent" });

describe("the tick loop", () => {
  it("runs its steps in order, never two ticks at once, and goes on after a failing tick", async () => {
    const log: string[] = [];
    let running = 0;
    let overlapped = false;
    let ticks = 0;
    const loop = startTickLoop({
      everyMs: 10,
      logger,
      steps: [
        async () => {
          overlapped ||= running++ > 0;
          ticks++;
          log.push("a");
          // Longer than the interval: the next tick must wait for this one.
          await new Promise((r) => setTimeout(r, 30));
          running--;
          if (ticks === 2) throw new Error("boom");
        },
        async () => void log.push("b"),
      ],
    });
    await waitFor(() => ticks >= 4);
    await loop.stop();
    expect(overlapped).toBe(false);
    // The second tick failed in step a, so it has no b.
    expect(log.slice(0, 7)).toEqual(["a", "b", "a", "a", "b", "a", "b"]);
  });
});
