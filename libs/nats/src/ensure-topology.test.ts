import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSubjects, fetcherDurable, LEGACY_FETCHER_DURABLE, type Subjects } from "@grantline/contracts";
import { testInfra, uniqueName } from "@grantline/testing";
import { ensureConsumer, ensureStreams, retireConsumer } from "./index.ts";

let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let subjects: Subjects;

beforeAll(async () => {
  nc = await connect({ servers: testInfra().natsUrl });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  subjects = createSubjects(uniqueName("topo"));
  await ensureStreams(jsm, subjects, { storage: "memory" });
});
afterAll(async () => {
  for (const s of Object.values(subjects.streams)) await jsm.streams.delete(s).catch(() => undefined);
  await nc.close();
});

describe("moving the fetcher from one consumer to one per AWS service", () => {
  it("retires the old consumer, after which the per-service ones are accepted and get its undelivered work", async () => {
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
