import type { JetStreamClient } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/nats-core";

/** Where the Postgres outbox publishes (structurally `OutboxSink` of `@grantline/db`). */
export interface OutboxSink {
  publish(
    subject: string,
    payload: string,
    msgID: string,
    headers: Record<string, string> | null,
  ): Promise<void>;
}

/**
 * Publishes outbox rows to JetStream with the row id as `msgID`, so a row published again (a crash between
 * publish and marking it published) is dropped by the stream's duplicate window. The row's headers (its W3C
 * trace context) go out as NATS headers.
 */
export function createOutboxSink(js: JetStreamClient): OutboxSink {
  return {
    async publish(subject, payload, msgID, hdrs) {
      const h = natsHeaders();
      for (const [k, v] of Object.entries(hdrs ?? {})) h.set(k, v);
      await js.publish(subject, payload, { msgID, headers: h, retries: 2 });
    },
  };
}
