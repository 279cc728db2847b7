import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureConsumer } from "./ensure-topology.ts";
import { createQueuedTasksCheck } from "./queued-tasks.ts";
import { openTestStreams, type TestStreams } from "./test-streams.ts";

let t: TestStreams;
beforeAll(async () => {
  t = await openTestStreams("qt");
});
afterAll(async () => {
  await t?.close();
});

describe("the tasks whose page request is still queued", () => {
  it("are those left in the work queue for the asked services, whatever the source, until a fetcher acks them", async () => {
    const { js, jsm, subjects } = t;
    const request = (source: string, service: string, taskId: string, msgID: string) =>
      js.publish(subjects.pageRequest(source, service), JSON.stringify({ taskId }), { msgID });
    await request("a", "iam", "t1", "req:t1");
    await request("b", "iam", "t2", "req:t2:3"); // a re-published copy
    await request("a", "sso-admin", "t3", "req:t3");
    await request("b", "iam", "t4", "not-a-request-id"); // no msgID of ours: the body names the task
    const queued = createQueuedTasksCheck(subjects, jsm);
    expect([...(await queued(["iam"]))].sort()).toEqual(["t1", "t2", "t4"]);
    expect([...(await queued(["iam", "sso-admin"]))].sort()).toEqual(["t1", "t2", "t3", "t4"]);
    expect([...(await queued(["organizations"]))]).toEqual([]);

    // A fetcher takes t1 and holds it (delivered, not acked): still queued. Acked, it leaves the queue.
    const durable = "fetcher-iam";
    await ensureConsumer(jsm, {
      stream: subjects.streams.pageRequests,
      durable,
      filterSubject: subjects.pageRequestsFor("iam"),
      ackWaitMs: 60_000,
    });
    const consumer = await js.consumers.get(subjects.streams.pageRequests, durable);
    const held = await consumer.next();
    expect(held?.headers?.get("Nats-Msg-Id")).toBe("req:t1");
    expect([...(await queued(["iam"]))].sort()).toEqual(["t1", "t2", "t4"]);
    await held?.ackAck();
    expect([...(await queued(["iam"]))].sort()).toEqual(["t2", "t4"]);
  });

  it("refuses to read more than its limit rather than answer partly", async () => {
    const { js, jsm, subjects } = t;
    for (const id of ["u1", "u2", "u3"])
      await js.publish(subjects.pageRequest("c", "organizations"), "{}", { msgID: `req:${id}` });
    expect([...(await createQueuedTasksCheck(subjects, jsm, 3)(["organizations"]))].sort()).toEqual([
      "u1",
      "u2",
      "u3",
    ]);
    await expect(createQueuedTasksCheck(subjects, jsm, 2)(["organizations"])).rejects.toThrow(
      /more than 2 page requests queued for organizations/,
    );
  });
});
