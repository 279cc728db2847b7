import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOutboxSink } from "./create-outbox-sink.ts";
import { purgeSourceWork } from "./purge-source-work.ts";
import { openTestStreams, type TestStreams } from "./test-streams.ts";

let t: TestStreams;

beforeAll(async () => {
  t = await openTestStreams("sink");
});
afterAll(() => t.close());

describe("createOutboxSink", () => {
  it("publishes a row with its id as msgID and its headers; a repeat of the row is dropped", async () => {
    const sink = createOutboxSink(t.js);
    const subject = t.subjects.event("acme", "run.started");
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    await sink.publish(subject, '{"n":1}', "evt:1", { traceparent });
    await sink.publish(subject, '{"n":1}', "evt:1", { traceparent }); // crash between publish and mark
    await sink.publish(subject, '{"n":2}', "evt:2", null);
    expect((await t.jsm.streams.info(t.subjects.streams.events)).state.messages).toBe(2);
    const first = await t.jsm.streams.getMessage(t.subjects.streams.events, { seq: 1 });
    expect(first?.json()).toEqual({ n: 1 });
    expect(first?.header.get("Nats-Msg-Id")).toBe("evt:1");
    expect(first?.header.get("traceparent")).toBe(traceparent);
  });
});

describe("purgeSourceWork", () => {
  it("removes one source's page requests, page results and batches of both lanes, and nothing of another source", async () => {
    const { js, subjects, jsm } = t;
    for (const source of ["gone", "kept"]) {
      await js.publish(subjects.pageRequest(source, "iam"), "{}");
      await js.publish(subjects.pageRequest(source, "sso-admin"), "{}");
      await js.publish(subjects.pageResult(source, "iam"), "{}");
      await js.publish(subjects.batch(source), "{}");
      await js.publish(subjects.chainBatch(source), "{}");
    }
    expect(await purgeSourceWork(jsm, subjects, "gone")).toEqual({
      pageRequests: 2,
      pageResults: 1,
      batches: 2,
    });
    const left = async (stream: string) => (await jsm.streams.info(stream)).state.messages;
    expect(await left(subjects.streams.pageRequests)).toBe(2);
    expect(await left(subjects.streams.pageResults)).toBe(1);
    expect(await left(subjects.streams.batches)).toBe(2);
  });
});
