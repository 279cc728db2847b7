import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetcherDurable, LEGACY_FETCHER_DURABLE } from "@grantline/contracts";
import { ensureConsumer, retireConsumer } from "./ensure-topology.ts";
import { openTestStreams, type TestStreams } from "./test-streams.ts";

let t: TestStreams;

beforeAll(async () => {
  t = await openTestStreams("topo");
});
afterAll(() => t.close());

describe("moving the fetcher from one consumer to one per AWS service", () => {
  it("retires the old consumer, after which the per-service ones are accepted and get its undelivered work", async () => {
    const { js, jsm, subjects } = t;
    const stream = subjects.streams.pageRequests;
    await ensureConsumer(jsm, {
      stream,
      durable: LEGACY_FETCHER_DURABLE,
      filterSubject: subjects.all.pageRequests,
    });
    await js.publish(subjects.pageRequest("acme", "sso-admin"), "left over");
    const perService = {
      stream,
      durable: fetcherDurable("sso-admin"),
      filterSubject: subjects.pageRequestsFor("sso-admin"),
    };
    // A WorkQueue stream refuses consumers whose filters overlap: the old one has to go first.
    await expect(ensureConsumer(jsm, perService)).rejects.toThrow();

    expect(await retireConsumer(jsm, stream, LEGACY_FETCHER_DURABLE)).toBe(true);
    expect(await retireConsumer(jsm, stream, LEGACY_FETCHER_DURABLE)).toBe(false);
    await ensureConsumer(jsm, perService);
    await ensureConsumer(jsm, {
      stream,
      durable: fetcherDurable("identitystore"),
      filterSubject: subjects.pageRequestsFor("identitystore"),
    });
    const c = await js.consumers.get(stream, fetcherDurable("sso-admin"));
    const m = await c.next({ expires: 5000 });
    expect(m?.string()).toBe("left over");
    m?.ack();
    expect((await jsm.consumers.info(stream, fetcherDurable("identitystore"))).num_pending).toBe(0);
  });
});

describe("strays", () => {
  it("a page request for a service no fetcher consumer reads is refused at publish, not kept in the queue", async () => {
    const { js, jsm, subjects } = t;
    const stream = subjects.streams.pageRequests;
    const before = (await jsm.streams.info(stream)).state.messages;
    // `pageRequest` checks the token only: "s3" is a valid token that no consumer filters on.
    await expect(
      js.publish(subjects.pageRequest("acme", "s3"), "stray", { timeout: 2000 }),
    ).rejects.toThrow();
    await expect(js.publish(`${subjects.prefix}.page.req.acme.iam.extra`, "stray")).rejects.toThrow();
    expect((await jsm.streams.info(stream)).state.messages).toBe(before);
    // Every service's subject is still accepted; the message lands where its consumer reads.
    await js.publish(subjects.pageRequest("acme", "iam"), "kept");
    expect((await jsm.streams.info(stream)).state.messages).toBe(before + 1);
    await jsm.streams.purge(stream, { filter: subjects.pageRequest("acme", "iam") });
  });
});
