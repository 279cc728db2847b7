import type { JetStreamClient } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/nats-core";
import { RetryableError } from "@grantline/contracts";

export interface PublishOptions {
  /** Deterministic id: JetStream drops a repeat inside the stream's duplicate window. */
  msgID: string;
  headers?: MsgHdrs;
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
  const data = JSON.stringify(value);
  try {
    const ack = await js.publish(subject, data, { msgID: opts.msgID, headers: opts.headers, retries: 2 });
    return { duplicate: ack.duplicate };
  } catch (err) {
    throw new RetryableError(`publish to ${subject} failed: ${(err as Error).message}`, { cause: err });
  }
}
