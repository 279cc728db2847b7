import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  createSubjects,
  DeadLetter,
  PermanentError,
  RetryableError,
  type Subjects,
} from "@grantline/contracts";
import { createLogger } from "@grantline/log";
import { uniqueName, waitFor } from "@grantline/testing";
import { BLOB_HEADER, openBlobStore, type BlobStore } from "./blob-store.ts";
import { decideOutcome } from "./decide-outcome.ts";
import { ensureConsumer } from "./ensure-topology.ts";
import { publishJson } from "./publish-json.ts";
import { startConsumer } from "./start-consumer.ts";
import { openTestStreams, type TestStreams } from "./test-streams.ts";

const Payload = z.object({ id: z.string(), body: z.string().default("") });
const logger = createLogger({ service: "test", level: "silent" });
let t: TestStreams;
let js: JetStreamClient;
let jsm: JetStreamManager;
let subjects: Subjects;
let blobs: BlobStore;

beforeAll(async () => {
  t = await openTestStreams("nt");
  ({ js, jsm, subjects } = t);
  blobs = await openBlobStore(t.nc, subjects);
});
afterAll(() => t.close([`OBJ_${subjects.streams.batches.replace(/_BATCH$/, "")}_BLOBS`]));

async function consumerOn(
  durable: string,
  handler: (p: z.infer<typeof Payload>, deliveryCount: number) => Promise<void>,
  withBlobs = true,
  maxPayloadBytes?: number,
) {
  await ensureConsumer(jsm, {
    stream: subjects.streams.batches,
    durable,
    filterSubject: subjects.batch(durable),
    ackWaitMs: 5000,
  });
  return startConsumer({
    js,
    subjects,
    stream: subjects.streams.batches,
    durable,
    stage: "writer",
    schema: Payload,
    handler: (p, ctx) => handler(p, ctx.deliveryCount),
    logger,
    maxInFlight: 4,
    ackWaitMs: 5000,
    retry: { baseDelayMs: 50 },
    blobs: withBlobs ? blobs : undefined,
    maxPayloadBytes,
  });
}

/** The dead letter for stream sequence `seq` of the batches stream, resolved from the blob store if sent by reference. */
async function letterFor(seq: number): Promise<DeadLetter> {
  return waitFor(async () => {
    const info = await jsm.streams.info(subjects.streams.deadLetters);
    for (let i = info.state.first_seq; i <= info.state.last_seq && info.state.messages > 0; i++) {
      const m = await jsm.streams.getMessage(subjects.streams.deadLetters, { seq: i }).catch(() => null);
      if (!m) continue;
      const ref = m.header?.get(BLOB_HEADER);
      const body = ref
        ? Buffer.from((await blobs.get(ref)) ?? new Uint8Array()).toString("utf8")
        : m.string();
      const letter = DeadLetter.parse(JSON.parse(body));
      if (letter.streamSeq === seq) return letter;
    }
    return undefined;
  });
}

describe("the consume loop", () => {
  it("maps error classes to outcomes", () => {
    expect(decideOutcome(undefined, 1)).toEqual({ kind: "ack" });
    expect(decideOutcome(new RetryableError("x", { retryAfterMs: 5000 }), 1)).toMatchObject({ kind: "nak" });
    expect(
      (decideOutcome(new RetryableError("x", { retryAfterMs: 5000 }), 1) as { delayMs: number }).delayMs,
    ).toBeGreaterThanOrEqual(5000);
    expect(decideOutcome(new Error("bug"), 30)).toEqual({ kind: "term", reason: "max-deliveries" });
    // AWS not answering: retried until the message is older than the error's bound, then dead-lettered.
    const unavailable = new RetryableError("AWS endpoint unreachable", { giveUpAfterMs: 60_000 });
    expect(decideOutcome(unavailable, 3, undefined, 59_000).kind).toBe("nak");
    expect(decideOutcome(unavailable, 3, undefined, 60_000)).toEqual({ kind: "term", reason: "gave-up" });
    expect(decideOutcome(new RetryableError("throttled"), 3, undefined, 3_600_000).kind).toBe("nak");
  });

  it("keeps the messages it holds while every slot is busy alive: none is delivered twice", async () => {
    const durable = "hold";
    // ack_wait 2 s; the first two messages take 5 s each on the only two slots (a margin for a loaded machine's
    // late timers: the keep-alive runs every 667 ms).
    await ensureConsumer(jsm, {
      stream: subjects.streams.batches,
      durable,
      filterSubject: subjects.batch(durable),
      ackWaitMs: 2000,
    });
    const seen: Array<[string, number]> = [];
    let running = 0;
    let most = 0;
    const c = await startConsumer({
      js,
      subjects,
      stream: subjects.streams.batches,
      durable,
      stage: "fetcher",
      schema: Payload,
      handler: async (p, ctx) => {
        seen.push([p.id, ctx.deliveryCount]);
        most = Math.max(most, ++running);
        if (p.id === "m0" || p.id === "m1") await new Promise((r) => setTimeout(r, 5000));
        running--;
      },
      logger,
      maxInFlight: 2,
      ackWaitMs: 2000,
      holdWhileBusy: 16,
    });
    const ids = Array.from({ length: 8 }, (_, i) => `m${i}`);
    for (const id of ids) await publishJson(js, subjects.batch(durable), { id }, { msgID: uniqueName() });
    await waitFor(
      async () =>
        (await jsm.consumers.info(subjects.streams.batches, durable)).num_ack_pending === 0 &&
        seen.length >= ids.length,
      { timeoutMs: 20_000 },
    );
    // Without the hold the loop stops reading and the client's buffered messages, never kept alive, come again.
    expect(seen).toEqual(ids.map((id) => [id, 1]));
    expect(most).toBe(2);
    await c.stop(1000);
  });

  it("retries a retryable failure after a delay and then acks", async () => {
    const seen: number[] = [];
    const c = await consumerOn("retry", async (_p, n) => {
      seen.push(n);
      if (n < 3) throw new RetryableError("not yet", { retryAfterMs: 100 });
    });
    await publishJson(js, subjects.batch("retry"), { id: "a" }, { msgID: uniqueName() });
    await waitFor(() => seen.includes(3));
    await waitFor(
      async () => (await jsm.consumers.info(subjects.streams.batches, "retry")).num_ack_pending === 0,
    );
    expect(seen).toEqual([1, 2, 3]);
    await c.stop(1000);
  });

  it("dead-letters a schema-invalid payload with its reason and keeps consuming", async () => {
    const ok: string[] = [];
    const c = await consumerOn("poison", async (p) => void ok.push(p.id));
    await js.publish(subjects.batch("poison"), JSON.stringify({ nope: 1 }), { msgID: uniqueName() });
    await js.publish(subjects.batch("poison"), "not json", { msgID: uniqueName() });
    await publishJson(js, subjects.batch("poison"), { id: "after" }, { msgID: uniqueName() });
    await waitFor(() => ok.includes("after"));
    const letters = await waitFor(async () => {
      const info = await jsm.streams.info(subjects.streams.deadLetters);
      return info.state.messages >= 2 ? info.state.messages : 0;
    });
    expect(letters).toBe(2);
    const first = DeadLetter.parse(
      (await jsm.streams.getMessage(subjects.streams.deadLetters, { seq: 1 }))?.json(),
    );
    expect(first).toMatchObject({ stage: "writer", reason: "schema" });
    expect(Buffer.from(first.payload, "base64").toString()).toBe('{"nope":1}');
    await c.stop(1000);
  });

  it("carries a payload over the NATS size limit by reference", async () => {
    let got = "";
    const c = await consumerOn("big", async (p) => void (got = p.body));
    const body = "x".repeat(2 * 1024 * 1024);
    await publishJson(js, subjects.batch("big"), { id: "big", body }, { msgID: uniqueName(), blobs });
    await waitFor(() => got.length === body.length);
    await c.stop(1000);
  });

  it("refuses a body sent by reference that someone overwrote in the shared object store", async () => {
    const handled: string[] = [];
    const c = await consumerOn("forged-blob", async (p) => void handled.push(p.body));
    const body = "r".repeat(1024 * 1024);
    // Hold the real message back until the forger has overwritten its body.
    const blobsOf: BlobStore = {
      put: async (name, data) => {
        await blobs.put(name, data);
        await blobs.put(name, Buffer.from(JSON.stringify({ id: "big", body: "forged" })));
      },
      get: (name) => blobs.get(name),
    };
    await publishJson(
      js,
      subjects.batch("forged-blob"),
      { id: "big", body },
      { msgID: uniqueName(), blobs: blobsOf },
    );
    const seq = (await jsm.streams.getMessage(subjects.streams.batches, {
      last_by_subj: subjects.batch("forged-blob"),
    }))!.seq;
    const letter = await letterFor(seq);
    expect(letter.reason).toBe("blob-mismatch");
    expect(handled).toEqual([]);
    await c.stop(1000);
  });

  it("dead-letters poison of any size: by reference with a blob store, without the copy otherwise", async () => {
    const body = "p".repeat(900 * 1024); // base64 of it passes the 1 MB message limit
    const bigReject = async () => {
      throw new PermanentError("mapper", "cannot read this page");
    };
    const withBlobs = await consumerOn("poison-big", bigReject);
    const a = await publishJson(
      js,
      subjects.batch("poison-big"),
      { id: "big", body },
      { msgID: uniqueName(), blobs },
    );
    expect(a.duplicate).toBe(false);
    const seqA = (await jsm.streams.getMessage(subjects.streams.batches, {
      last_by_subj: subjects.batch("poison-big"),
    }))!.seq;
    const letter = await letterFor(seqA);
    expect(letter.reason).toBe("mapper");
    expect(JSON.parse(Buffer.from(letter.payload, "base64").toString()).body).toHaveLength(body.length);
    await waitFor(
      async () => (await jsm.consumers.info(subjects.streams.batches, "poison-big")).num_ack_pending === 0,
    );
    await withBlobs.stop(1000);

    const noBlobs = await consumerOn("poison-nob", bigReject, false);
    await js.publish(subjects.batch("poison-nob"), JSON.stringify({ id: "big", body }), {
      msgID: uniqueName(),
    });
    const seqB = (await jsm.streams.getMessage(subjects.streams.batches, {
      last_by_subj: subjects.batch("poison-nob"),
    }))!.seq;
    const bare = await letterFor(seqB);
    expect(bare.payload).toBe("");
    expect(bare.error).toMatch(/payload of \d+ bytes not copied/);
    await waitFor(
      async () => (await jsm.consumers.info(subjects.streams.batches, "poison-nob")).num_ack_pending === 0,
    );
    await noBlobs.stop(1000);
  });

  it("terminates poison whose dead letter cannot be published once its deliveries are spent, and says so", async () => {
    await ensureConsumer(jsm, {
      stream: subjects.streams.batches,
      durable: "no-dlq",
      filterSubject: subjects.batch("no-dlq"),
      ackWaitMs: 5000,
    });
    const outcomes: string[] = [];
    const c = await startConsumer({
      js,
      // Dead letters go to a prefix no stream captures: every publish of one fails.
      subjects: createSubjects(uniqueName("nodlq").toLowerCase()),
      stream: subjects.streams.batches,
      durable: "no-dlq",
      stage: "writer",
      schema: Payload,
      handler: () => Promise.reject(new PermanentError("mapper", "poison")),
      logger,
      maxInFlight: 1,
      ackWaitMs: 5000,
      retry: { maxDeliver: 2 },
      observe: (o) => void outcomes.push(o),
    });
    await publishJson(js, subjects.batch("no-dlq"), { id: "p" }, { msgID: uniqueName() });
    await waitFor(() => outcomes.includes("term-unrecorded"), { timeoutMs: 30_000 });
    expect(outcomes).toEqual(["nak", "term-unrecorded"]);
    await waitFor(
      async () => (await jsm.consumers.info(subjects.streams.batches, "no-dlq")).num_ack_pending === 0,
    );
    await c.stop(1000);
  });

  it("dead-letters a payload over the stage's limit before fetching or parsing it", async () => {
    const handled: string[] = [];
    const c = await consumerOn("bounded", async (p) => void handled.push(p.id), true, 100 * 1024);
    await publishJson(
      js,
      subjects.batch("bounded"),
      { id: "huge", body: "h".repeat(2 * 1024 ** 2) },
      {
        msgID: uniqueName(),
        blobs,
      },
    );
    const seq = (await jsm.streams.getMessage(subjects.streams.batches, {
      last_by_subj: subjects.batch("bounded"),
    }))!.seq;
    await publishJson(
      js,
      subjects.batch("bounded"),
      { id: "small", body: "s".repeat(50 * 1024) },
      {
        msgID: uniqueName(),
      },
    );
    await waitFor(() => handled.includes("small"));
    const letter = await letterFor(seq);
    expect(letter.reason).toBe("too-large");
    expect(letter.error).toMatch(/over this stage's limit of 102400/);
    expect(handled).toEqual(["small"]);
    await c.stop(1000);
  });

  it("stop() lets an in-flight handler finish within the grace period", async () => {
    let finished = false;
    let started = false;
    const c = await consumerOn("graceful", async () => {
      started = true;
      await new Promise((r) => setTimeout(r, 300));
      finished = true;
    });
    await publishJson(js, subjects.batch("graceful"), { id: "slow" }, { msgID: uniqueName() });
    await waitFor(() => started);
    await c.stop(5000);
    expect(finished).toBe(true);
    // The ack was sent before stop() returned; the server records it a moment later.
    await waitFor(
      async () => (await jsm.consumers.info(subjects.streams.batches, "graceful")).num_ack_pending === 0,
    );
  });
});
