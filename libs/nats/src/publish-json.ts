import { createHash } from "node:crypto";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/nats-core";
import { headers as natsHeaders } from "@nats-io/nats-core";
import { RetryableError } from "@grantline/contracts";
import { withTraceHeaders } from "./trace-context.ts";
import { BLOB_HEADER, INLINE_LIMIT_BYTES, type BlobStore } from "./blob-store.ts";

export interface PublishOptions {
  /** Deterministic id: JetStream drops a repeat inside the stream's duplicate window. */
  msgID: string;
  headers?: MsgHdrs;
  /** Where bodies over the inline limit go; without it, an oversized body is an error. */
  blobs?: BlobStore;
}

/**
 * Publishes JSON to a stream subject and waits for the stream's ack. Any failure — no responders during a
 * leader change, a full stream refusing new work (`discard: new`), a timeout after which the message may or
 * may not be stored — becomes a `RetryableError`: the caller's own message is nak'ed and the retry re-sends
 * with the same `msgID`, so a message stored despite the timeout is not stored twice.
 */
export async function publishJson(
  js: JetStreamClient,
  subject: string,
  value: unknown,
  opts: PublishOptions,
): Promise<{ duplicate: boolean }> {
  // Encoded once: measured, sent inline or stored as a blob as these bytes (a page can be hundreds of KB, and
  // the client would otherwise encode the string again).
  let data: Uint8Array = Buffer.from(JSON.stringify(value));
  // The active trace (the span of the message being handled) travels on with what this message causes.
  let headers = withTraceHeaders(opts.headers);
  try {
    const bytes = data.length;
    if (bytes > INLINE_LIMIT_BYTES && opts.blobs) {
      // Named after the msgID and the content: a retried publish of the same body writes the same object, a
      // different body (a page fetched again) another one, so a message never reads a body it was not sent
      // with. The digest travels in the message, which only its stage's NATS user may publish: the object
      // store is shared by the stages, and a body overwritten by another user is refused by the reader.
      const sha256 = createHash("sha256").update(data).digest("hex");
      const name = `${opts.msgID.replace(/[^A-Za-z0-9_.=-]/g, "_")}.${sha256.slice(0, 16)}`;
      await opts.blobs.put(name, data);
      headers = headers ?? natsHeaders();
      headers.set(BLOB_HEADER, name);
      data = Buffer.from(JSON.stringify({ $blob: name, bytes, sha256 }));
    }
    const ack = await js.publish(subject, data, { msgID: opts.msgID, headers, retries: 2 });
    return { duplicate: ack.duplicate };
  } catch (err) {
    throw new RetryableError(`publish to ${subject} failed: ${(err as Error).message}`, { cause: err });
  }
}
