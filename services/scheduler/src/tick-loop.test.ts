import { describe, expect, it } from "vitest";
import { createSubjects } from "@grantline/contracts";
import { createLogger } from "@grantline/log";
import { waitFor } from "@grantline/testing";
import { createPipelineIdleCheck } from "./pipeline-idle.ts";
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

describe("the pipeline idle check", () => {
  const subjects = createSubjects("t");
  const check = (state: Record<string, { num_pending: number; num_ack_pending: number }>) =>
    createPipelineIdleCheck(subjects, {
      consumers: {
        info: async (_stream, durable) => {
          const s = state[durable];
          if (!s) throw new Error("consumer not found");
          return s;
        },
      },
    })();

  it("is idle when no consumer holds messages (a consumer not created yet holds none)", async () => {
    expect(await check({ mapper: { num_pending: 0, num_ack_pending: 0 } })).toBe(true);
    expect(await check({ writer: { num_pending: 3, num_ack_pending: 0 } })).toBe(false);
    expect(await check({ "fetcher-iam": { num_pending: 0, num_ack_pending: 1 } })).toBe(false);
  });
});
