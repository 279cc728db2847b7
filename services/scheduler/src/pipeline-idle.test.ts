import { describe, expect, it } from "vitest";
import { createSubjects } from "@grantline/contracts";
import { createPipelineIdleCheck } from "./pipeline-idle.ts";

describe("the pipeline idle check with change feeds", () => {
  const subjects = createSubjects("t");
  const check = (state: Record<string, { num_pending: number; num_ack_pending: number }>, windows = 0) =>
    createPipelineIdleCheck(
      subjects,
      {
        consumers: {
          info: async (_stream, durable) => {
            const s = state[durable];
            if (!s) throw new Error("consumer not found");
            return s;
          },
        },
      },
      () => Promise.resolve(windows),
    )();
  const held = (n: number) => ({ num_pending: n, num_ack_pending: 0 });

  it("is not blocked by feed polls: the CloudTrail fetcher is skipped, one message per open window is allowed", async () => {
    // Polls queued at the CloudTrail fetcher never count.
    expect(await check({ "fetcher-cloudtrail": held(7) })).toBe(true);
    // Three open windows: up to three messages in the mapper and writer together may be theirs.
    expect(await check({ mapper: held(1), writer: { num_pending: 0, num_ack_pending: 2 } }, 3)).toBe(true);
    // More than the windows can explain is a sync backlog.
    expect(await check({ mapper: held(2), writer: held(2) }, 3)).toBe(false);
    // Any sync fetcher holding work is a backlog, windows or not.
    expect(await check({ "fetcher-iam": held(1) }, 10)).toBe(false);
    // No feeds: as before, anything held means busy.
    expect(await check({ mapper: held(1) })).toBe(false);
  });
});
