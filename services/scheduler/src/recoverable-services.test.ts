import { describe, expect, it } from "vitest";
import { createSubjects, ServiceName } from "@grantline/contracts";
import { createRecoverableServicesCheck } from "./recoverable-services.ts";

describe("the services whose stalled tasks may be re-published", () => {
  const subjects = createSubjects("t");
  const check = (state: Record<string, { num_pending: number; num_ack_pending?: number }>, windows = 0) =>
    createRecoverableServicesCheck(
      subjects,
      {
        consumers: {
          info: async (_stream, durable) => {
            const s = state[durable];
            if (!s) throw new Error("consumer not found");
            return { num_ack_pending: 0, ...s };
          },
        },
      },
      () => Promise.resolve(windows),
    )();
  const all = [...ServiceName.options];

  it("ignores messages in flight: a message that keeps being retried blocks nobody's recovery", async () => {
    expect(await check({})).toEqual(all);
    expect(await check({ writer: { num_pending: 0, num_ack_pending: 40 } })).toEqual(all);
    expect(await check({ "fetcher-iam": { num_pending: 0, num_ack_pending: 256 } })).toEqual(all);
  });

  it("holds back only the services whose messages may be queued undelivered", async () => {
    // Requests queued for IAM: an IAM task may be waiting there, an Identity Center one cannot be.
    expect(await check({ "fetcher-iam": { num_pending: 3 } })).toEqual(all.filter((s) => s !== "iam"));
    // A backlog at the mapper or writer may hold any service's page: nothing is re-published.
    expect(await check({ mapper: { num_pending: 1 } })).toEqual([]);
    expect(await check({ writer: { num_pending: 5 } })).toEqual([]);
  });

  it("allows one undelivered mapper or writer message per open feed window", async () => {
    expect(await check({ mapper: { num_pending: 1 }, writer: { num_pending: 2 } }, 3)).toEqual(all);
    expect(await check({ mapper: { num_pending: 2 }, writer: { num_pending: 2 } }, 3)).toEqual([]);
  });
});
