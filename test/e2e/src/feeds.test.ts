import { DeleteGroupMembershipCommand, IdentitystoreClient } from "@aws-sdk/client-identitystore";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsSim, type AwsSim } from "@grantline/aws-sim";
import { waitFor } from "@grantline/testing";
import { createPipeline, QUICK_FEEDS, simSource, syncAndWait, type Pipeline } from "./pipeline-harness.ts";

let sim: AwsSim;
let p: Pipeline;
// The management account's combined feed of the Identity Center Region (feeds.managementFeeds defaults to it):
// Identity Store events are read there.
const STORE_FEED = /\/write-events$/;

beforeAll(async () => {
  sim = await startAwsSim({ preset: "small", seed: 11 });
  p = await createPipeline({
    sources: {
      sources: [
        simSource("acme", sim, {
          feeds: QUICK_FEEDS,
        }),
      ],
    },
  });
  p.startAll();
});
afterAll(async () => {
  await p?.close();
  await sim?.close();
});

const storeCursor = () =>
  p.db
    .selectFrom("feed_cursors")
    .selectAll()
    .where("source_id", "=", "acme")
    .execute()
    .then((rows) => rows.find((r) => STORE_FEED.test(r.feed_id)));

describe("change feeds end to end", () => {
  it("after a sync, the source's feeds poll CloudTrail and commit their cursors (read-only events skipped)", async () => {
    await syncAndWait(p, "acme");
    const committed = await waitFor(
      async () => ((await storeCursor())?.committed_at ? storeCursor() : null),
      {
        timeoutMs: 60_000,
        message: "the identitystore feed to commit a window",
      },
    );
    expect(committed!.region).toBe(sim.region);
    expect(committed!.account_id).toBe(sim.managementAccountId);
    // The full sync's List calls are read-only events: the combined feed asks for write events only, and a
    // read-only one is never a refresh.
    const refreshes = await p.db
      .selectFrom("refresh_queue")
      .select("event_name")
      .where("source_id", "=", "acme")
      .execute();
    expect(refreshes.filter((r) => /^(List|Get|Describe)/.test(r.event_name ?? ""))).toEqual([]);
  });

  it("a mutation becomes a refresh_queue row with its event id and time, and the cursor moves past it", async () => {
    const user = sim.exportOrg().identityCenter!.users[0]!;
    sim.mutate.disableIdentityStoreUser({ userId: user.userId });
    const ev = sim
      .trail()
      .filter((e) => e.eventName === "UpdateUser")
      .at(-1)!;
    const row = await waitFor(
      () =>
        p.db
          .selectFrom("refresh_queue")
          .selectAll()
          .where("source_id", "=", "acme")
          .where("event_id", "=", ev.eventId)
          .executeTakeFirst(),
      { timeoutMs: 60_000, message: `a refresh for event ${ev.eventId}` },
    );
    expect(row).toMatchObject({
      event_name: "UpdateUser",
      intent: { kind: "sso-user", userId: user.userId },
    });
    // CloudTrail records event times to the second.
    expect(new Date(row!.event_time!).getTime()).toBe(Math.floor(ev.eventTime / 1000) * 1000);
    expect(row!.feed_id).toMatch(STORE_FEED);
    const c = await storeCursor();
    expect(new Date(c!.since).getTime()).toBeGreaterThanOrEqual(new Date(ev.eventTime).getTime());
    expect(Number(c!.events_translated)).toBeGreaterThan(0);
  });

  it("a failed call is seen and produces no refresh", async () => {
    const client = new IdentitystoreClient({
      endpoint: sim.url,
      region: sim.region,
      credentials: sim.managementCredentials,
      maxAttempts: 1,
    });
    const store = sim.exportOrg().identityCenter!.identityStoreId;
    await expect(
      client.send(
        new DeleteGroupMembershipCommand({
          IdentityStoreId: store,
          MembershipId: "00000000-dead-beef-0000-000000000000",
        }),
      ),
    ).rejects.toThrow();
    const failed = sim
      .trail()
      .filter((e) => e.eventName === "DeleteGroupMembership")
      .at(-1)!;
    expect(failed.errorCode).toBeTruthy();
    const before = await storeCursor();
    // Wait until a window that began after the failed call was recorded has committed.
    await waitFor(
      async () => {
        const c = await storeCursor();
        return c && new Date(c.since).getTime() > new Date(failed.eventTime).getTime() + 1_000 ? c : null;
      },
      { timeoutMs: 60_000, message: "the feed to read past the failed call" },
    );
    const after = await storeCursor();
    expect(Number(after!.events_ignored)).toBeGreaterThan(Number(before!.events_ignored));
    const rows = await p.db
      .selectFrom("refresh_queue")
      .select("id")
      .where("event_id", "=", failed.eventId)
      .execute();
    expect(rows).toEqual([]);
    // The feed run is not a sync: status lists the feeds apart.
    const st = await p.request<{
      ok: true;
      runs: Array<{ runId: string }>;
      feeds?: Array<{ feedId: string }>;
    }>("status", { sourceId: "acme" });
    expect(st.feeds?.some((f) => STORE_FEED.test(f.feedId))).toBe(true);
    client.destroy();
  });
});
