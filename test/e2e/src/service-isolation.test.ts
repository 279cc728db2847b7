import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsSim, type AwsSim } from "@grantline/aws-sim";
import type { SyncReply } from "@grantline/contracts";
import { waitFor } from "@grantline/testing";
import { createPipeline, simSource, type Pipeline } from "./pipeline-harness.ts";

// The fetcher consumes each AWS service's requests through its own consumer. With one consumer for all, the
// requests queued for a slow budget (Identity Center, 20/s for a whole organization) held every delivery slot
// and the Identity Store and Organizations chains waited behind them: the large benchmark ran 1.37 × its
// rate-limit floor. Here Identity Center gets 1 call/s and each fetcher consumer 2 slots — with one shared
// consumer the Identity Store work could only trickle through at that 1/s.

let sim: AwsSim;
let p: Pipeline;

beforeAll(async () => {
  sim = await startAwsSim({ preset: "small", seed: 5 });
  p = await createPipeline({
    sources: {
      sources: [
        simSource("isolated", sim, {
          budgets: { "sso-admin": 1, identitystore: 50, organizations: 50, iam: 50, sts: 50, cloudtrail: 2 },
        }),
      ],
    },
    env: { MAX_IN_FLIGHT: "2" },
  });
  p.startAll();
});
afterAll(async () => {
  await p?.close();
  await sim?.close();
});

async function pendingBy(runId: string): Promise<Map<string, { pending: number; done: number }>> {
  const rows = await p.db
    .selectFrom("tasks")
    .select(["service", "status", (eb) => eb.fn.countAll<string>().as("n")])
    .where("run_id", "=", runId)
    .groupBy(["service", "status"])
    .execute();
  const out = new Map<string, { pending: number; done: number }>();
  for (const r of rows) {
    const s = out.get(r.service) ?? { pending: 0, done: 0 };
    if (r.status === "pending") s.pending += Number(r.n);
    else s.done += Number(r.n);
    out.set(r.service, s);
  }
  return out;
}

describe("a slow AWS service does not hold up the others", () => {
  it("Identity Store and Organizations finish while Identity Center requests still queue for their budget", async () => {
    const r = await p.request<SyncReply>("sync", { sourceId: "isolated" });
    if (!r.ok) throw new Error(r.error);
    const users = sim.exportOrg().identityCenter?.users.length ?? 0;
    let seen = new Map<string, { pending: number; done: number }>();
    await waitFor(
      async () => {
        seen = await pendingBy(r.runId);
        const ids = seen.get("identitystore");
        const orgs = seen.get("organizations");
        // Every user listed (ListUsers pages done, nothing pending) and Organizations settled too.
        return (
          ids !== undefined &&
          ids.pending === 0 &&
          ids.done > 0 &&
          orgs !== undefined &&
          orgs.pending === 0 &&
          Number(
            (
              await p.db
                .selectFrom("resources")
                .select((eb) => eb.fn.countAll<string>().as("n"))
                .where("source_id", "=", "isolated")
                .where("type", "=", "sso_user")
                .executeTakeFirstOrThrow()
            ).n,
          ) === users
        );
      },
      {
        timeoutMs: 60_000,
        message: "identitystore and organizations settled",
      },
    );
    const sso = seen.get("sso-admin");
    // Most of Identity Center's work is still waiting on its 1/s budget.
    expect(sso?.pending ?? 0).toBeGreaterThanOrEqual(10);
    expect(sso?.pending ?? 0).toBeGreaterThan(sso?.done ?? 0);
  });
});
