import { createHash } from "node:crypto";
import { setMaxListeners } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { SpanKind, context, type Span } from "@opentelemetry/api";
import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/nats-core";
import type { z } from "zod";
import {
  PermanentError,
  parseOrThrow,
  type DeadLetter,
  type Stage,
  type Subjects,
} from "@grantline/contracts";
import { lazyChild, type Logger } from "@grantline/log";
import { DEFAULT_RETRY_POLICY, decideOutcome, type Outcome, type RetryPolicy } from "./decide-outcome.ts";
import { publishJson } from "./publish-json.ts";
import { BLOB_HEADER, INLINE_LIMIT_BYTES, type BlobStore } from "./blob-store.ts";
import { extractTraceContext, recordFailure, startSpan } from "./trace-context.ts";

/** What a handler gets besides its payload. */
export interface MessageContext {
  /** Child logger bound to stage, subject, stream sequence and delivery count. */
  logger: Logger;
  /** Aborted when shutdown runs out of grace: pass it to every network and database call. */
  signal: AbortSignal;
  subject: string;
  seq: number;
  deliveryCount: number;
  headers: MsgHdrs | undefined;
  /** Extends the ack deadline; called automatically every ackWait/3 while the handler runs. */
  working(): void;
}

export type MessageHandler<T> = (payload: T, ctx: MessageContext) => Promise<void>;

export interface StartConsumerOptions<S extends z.ZodType> {
  js: JetStreamClient;
  subjects: Subjects;
  stream: string;
  durable: string;
  stage: Stage;
  /** Payload schema; a payload failing it is dead-lettered with the validation issues. */
  schema: S;
  handler: MessageHandler<z.infer<S>>;
  logger: Logger;
  /** Messages processed at once by this replica. */
  maxInFlight: number;
  /** Must match the consumer's ack_wait. @default 30000 */
  ackWaitMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Resolves payloads sent by reference (see `publishJson`). */
  blobs?: BlobStore;
  /**
   * Largest payload accepted, inline or by reference (the reference says how big its body is): a larger one is
   * dead-lettered before it is fetched or parsed. @default unlimited
   */
  maxPayloadBytes?: number;
  /** Called once per message with its outcome and handling time (metrics). */
  observe?: (outcome: ConsumerOutcome, seconds: number) => void;
  /**
   * Messages taken while every slot is busy and kept alive (`working()`) until one frees, in order. Without it
   * the loop stops reading and the client keeps up to `maxInFlight` more buffered with no `working()`: when the
   * handlers ahead take longer than ack_wait (a fetcher's pages waiting on a shared budget) the server delivers
   * those again, and they are handled twice. Set it to the consumer's max_ack_pending less `maxInFlight` and the
   * server's cap is the only bound. Meant for small messages (page requests): each held one stays in memory.
   * @default 0
   */
  holdWhileBusy?: number;
}

/**
 * A message's end as metrics see it: `term-unrecorded` is a poison message terminated although its dead letter
 * could not be published, after every delivery was spent — never a loop, but never silent either.
 */
export type ConsumerOutcome = Outcome["kind"] | "term-unrecorded";

export interface RunningConsumer {
  /**
   * Two-stage stop: stop pulling and hand buffered messages back at once, let in-flight handlers finish for
   * up to `graceMs`; then abort their signal and wait briefly. Unfinished messages are redelivered elsewhere.
   */
  stop(graceMs: number): Promise<void>;
  /** Resolves when the loop ends (after stop, or if the consumer disappears). */
  readonly done: Promise<void>;
  inFlight(): number;
}

/** Runs the one consume loop every grantline service uses. */
export async function startConsumer<S extends z.ZodType>(
  o: StartConsumerOptions<S>,
): Promise<RunningConsumer> {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...o.retry };
  const ackWaitMs = o.ackWaitMs ?? 30_000;
  const consumer = await o.js.consumers.get(o.stream, o.durable);
  const messages = await consumer.consume({ max_messages: o.maxInFlight });
  const abort = new AbortController();
  // Every in-flight handler (and each call it makes) listens on this one signal: more than Node's default
  // ten is the normal case here, not a leak.
  setMaxListeners(Math.max(10, o.maxInFlight * 4), abort.signal);
  const inflight = new Set<Promise<void>>();
  let stopping = false;

  async function deadLetter(
    m: JsMsg,
    data: Uint8Array,
    reason: string,
    error: string,
    log: Logger,
  ): Promise<void> {
    let ids: MessageIds = { taskId: null, runId: null };
    try {
      ids = messageIds(JSON.parse(Buffer.from(data).toString("utf8")));
    } catch {
      // Unreadable payloads are dead-lettered all the same; they just name no task.
    }
    const { taskId, runId } = ids;
    const letter: DeadLetter = {
      v: 1,
      stage: o.stage,
      reason,
      error,
      subject: m.subject,
      streamSeq: m.seq,
      deliveryCount: m.info.deliveryCount,
      payload: Buffer.from(data).toString("base64"),
      failedAt: new Date().toISOString(),
      taskId,
      runId,
    };
    // base64 grows a payload by a third: anything over ~675 KB no longer fits a NATS message as a letter. With a
    // blob store the letter goes by reference (publishJson); without one the copy is left out, so the letter —
    // reason, task, stream sequence — is always published and the message never retries forever.
    if (!o.blobs && Buffer.byteLength(JSON.stringify(letter)) > INLINE_LIMIT_BYTES) {
      letter.payload = "";
      letter.error = `${error} (payload of ${data.length} bytes not copied: no blob store; stream seq ${m.seq})`;
    }
    await publishJson(o.js, o.subjects.deadLetter(o.stage), letter, {
      msgID: `dlq:${o.stream}:${m.seq}`,
      blobs: o.blobs,
    });
    log.error({ reason, error, taskId }, "message dead-lettered");
  }

  /** The message's payload, fetched from the blob store when it was sent by reference. */
  async function body(m: JsMsg): Promise<Uint8Array> {
    const ref = m.headers?.get(BLOB_HEADER);
    const limit = o.maxPayloadBytes;
    let stub: { bytes?: unknown; sha256?: unknown } = {};
    if (ref) {
      try {
        stub = JSON.parse(m.string()) as typeof stub;
      } catch {
        // Not the reference stub publishJson writes: the blob itself is read and judged below.
      }
    }
    if (limit !== undefined) {
      const size = (ref && Number(stub.bytes)) || m.data.length;
      if (size > limit)
        throw new PermanentError(
          "too-large",
          `payload of ${size} bytes is over this stage's limit of ${limit} (MAX_PAYLOAD_BYTES)`,
        );
    }
    if (!ref) return m.data;
    if (!o.blobs)
      throw new PermanentError(
        "blob-unsupported",
        `payload sent by reference (${ref}) but no blob store is configured`,
      );
    const data = await o.blobs.get(ref);
    if (data === null) throw new PermanentError("blob-missing", `payload blob ${ref} is gone (expired?)`);
    if (limit !== undefined && data.length > limit)
      throw new PermanentError(
        "too-large",
        `payload of ${data.length} bytes is over this stage's limit of ${limit} (MAX_PAYLOAD_BYTES)`,
      );
    // The object store is shared by the stages' NATS users; the digest comes with the message, which only the
    // producing stage's user may publish. A body that does not match was written by someone else: refused.
    if (typeof stub.sha256 === "string" && createHash("sha256").update(data).digest("hex") !== stub.sha256)
      throw new PermanentError(
        "blob-mismatch",
        `payload blob ${ref} does not match the digest its message carries (overwritten by another NATS user?)`,
      );
    return data;
  }

  async function handle(m: JsMsg): Promise<void> {
    // The span continues the trace the message carries (scheduler → fetcher → mapper → writer → next page);
    // publishes and log lines made while it is active pick it up from the async context.
    const { span, ctx } = startSpan(
      `${o.stage} process`,
      {
        "messaging.system": "nats",
        "messaging.operation.type": "process",
        "messaging.destination.name": m.subject,
        "messaging.consumer.group.name": o.durable,
        "messaging.nats.stream.sequence": m.seq,
        "messaging.nats.delivery_count": m.info.deliveryCount,
      },
      { parent: extractTraceContext(m.headers), kind: SpanKind.CONSUMER },
    );
    return context.with(ctx, () => handleInSpan(m, span));
  }

  async function handleInSpan(m: JsMsg, span: Span): Promise<void> {
    const started = performance.now();
    const deliveryCount = m.info.deliveryCount;
    const bindings: Record<string, unknown> = {
      stage: o.stage,
      subject: m.subject,
      seq: m.seq,
      delivery: deliveryCount,
    };
    // Made on first use: most messages log nothing at the service's level (lazyChild says what it saves).
    const log = lazyChild(o.logger, bindings);
    const heartbeat = setInterval(() => m.working(), Math.max(500, Math.floor(ackWaitMs / 3)));
    let failure: unknown = undefined;
    // What a dead letter copies: the payload itself, also when the message only carried a blob reference.
    let data: Uint8Array = m.data;
    try {
      let raw: unknown;
      try {
        data = await body(m);
        raw = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8"));
      } catch (err) {
        if (err instanceof PermanentError) throw err;
        throw new PermanentError("invalid-json", `payload is not JSON: ${(err as Error).message}`);
      }
      const { taskId, runId } = messageIds(raw);
      if (taskId) {
        // Before anything has logged through `log`, so every line about the message names its task.
        bindings.taskId = taskId;
        bindings.runId = runId;
        span.setAttributes({ "grantline.task_id": taskId, "grantline.run_id": runId ?? "" });
      }
      const payload = parseOrThrow(o.schema, raw, `${o.stage} input`) as z.infer<S>;
      await o.handler(payload, {
        logger: log,
        signal: abort.signal,
        subject: m.subject,
        seq: m.seq,
        deliveryCount,
        headers: m.headers,
        working: () => m.working(),
      });
    } catch (err) {
      failure = err ?? new Error("handler threw a falsy value");
    } finally {
      clearInterval(heartbeat);
    }
    // The stream's timestamp is the first publish: redeliveries keep it, so this is how long the work has waited.
    const ageMs = Date.now() - Number(BigInt(m.info.timestampNanos) / 1_000_000n);
    let outcome = decideOutcome(failure, deliveryCount, policy, ageMs);
    let unrecorded = false;
    if (failure !== undefined && abort.signal.aborted) outcome = { kind: "nak", delayMs: 0 };
    try {
      if (outcome.kind === "ack") {
        m.ack();
      } else if (outcome.kind === "nak") {
        log.warn({ err: failure, delayMs: outcome.delayMs }, "message failed; will retry");
        m.nak(outcome.delayMs);
      } else {
        const error = failure instanceof Error ? failure.message : String(failure);
        try {
          await deadLetter(m, data, outcome.reason, error, log);
          m.term();
        } catch (err) {
          // Poison is not dropped without a record while a record may still be written (NATS briefly away):
          // retry. But a letter that keeps failing must not keep the message — and with it the stage's
          // pending count, which the scheduler's recovery waits on — alive forever: after the deliveries a
          // failing handler gets, terminate it, loudly.
          if (deliveryCount < policy.maxDeliver) {
            log.error({ err }, "dead-letter publish failed; retrying message");
            outcome = { kind: "nak", delayMs: 5_000 };
            m.nak(5_000);
          } else {
            log.error(
              { err, reason: outcome.reason, error, streamSeq: m.seq },
              "dead-letter publish failed on the last delivery; message terminated without a dead letter",
            );
            unrecorded = true;
            m.term();
          }
        }
      }
    } catch (err) {
      log.warn({ err }, "ack/nak failed (connection lost?); the message will be redelivered");
    }
    span.setAttribute("grantline.outcome", outcome.kind);
    if (failure !== undefined) recordFailure(span, failure);
    span.end();
    o.observe?.(unrecorded ? "term-unrecorded" : outcome.kind, (performance.now() - started) / 1000);
  }

  // Taken, waiting for a slot: each kept alive until a handler's end starts it (see `holdWhileBusy`).
  const waiting: JsMsg[] = [];
  const hold = o.holdWhileBusy ?? 0;
  const keepAlive = setInterval(
    () => {
      for (const w of waiting) w.working();
    },
    Math.max(500, Math.floor(ackWaitMs / 3)),
  );
  keepAlive.unref();

  function start(m: JsMsg): void {
    const p: Promise<void> = handle(m).finally(() => {
      inflight.delete(p);
      const next = stopping ? undefined : waiting.shift();
      if (next) start(next);
    });
    inflight.add(p);
  }

  const done = (async () => {
    for await (const m of messages) {
      if (stopping) {
        // Buffered but not started: give it back now rather than after ack_wait.
        m.nak();
        continue;
      }
      if (inflight.size < o.maxInFlight && waiting.length === 0) {
        start(m);
        continue;
      }
      waiting.push(m);
      // Holding all it may: stop reading (the client then buffers) until a handler's end takes one.
      while (waiting.length > hold && !stopping && inflight.size > 0) await Promise.race(inflight);
    }
    for (const w of waiting.splice(0)) w.nak();
    while (inflight.size > 0) await Promise.allSettled([...inflight]);
    clearInterval(keepAlive);
  })();

  return {
    done,
    inFlight: () => inflight.size,
    async stop(graceMs: number) {
      if (stopping) return done;
      stopping = true;
      // Taken but not started: give them back now rather than after ack_wait.
      for (const w of waiting.splice(0)) w.nak();
      await messages.close();
      const settled = Promise.allSettled([...inflight]);
      const graceful = await Promise.race([settled.then(() => true), sleep(graceMs).then(() => false)]);
      if (!graceful) {
        o.logger.warn({ inFlight: inflight.size }, "grace period over; aborting in-flight handlers");
        abort.abort(new Error("shutdown"));
        await Promise.race([settled, sleep(2_000)]);
      }
      await Promise.race([done, sleep(1_000)]);
    },
  };
}

interface MessageIds {
  taskId: string | null;
  runId: string | null;
}

/** The task and run a pipeline message is about, wherever its shape keeps them (results nest the request). */
export function messageIds(raw: unknown): MessageIds {
  if (typeof raw !== "object" || raw === null) return { taskId: null, runId: null };
  const p = raw as { taskId?: unknown; runId?: unknown; request?: { taskId?: unknown; runId?: unknown } };
  const t = p.taskId ?? p.request?.taskId;
  const r = p.runId ?? p.request?.runId;
  return { taskId: typeof t === "string" ? t : null, runId: typeof r === "string" ? r : null };
}
