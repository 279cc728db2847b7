import { sql } from "kysely";
import type { Db } from "./create-db.ts";

/** The one thing the publisher needs from NATS: a deduplicating publish that resolves when the stream has it. */
export interface OutboxSink {
  publish(
    subject: string,
    payload: string,
    msgID: string,
    headers: Record<string, string> | null,
  ): Promise<void>;
}

export interface OutboxPublisherOptions {
  db: Db;
  sink: OutboxSink;
  /** Rows per round. @default 500 */
  batchSize?: number;
  /** Fallback poll when nothing kicked the publisher. @default 1000 */
  pollMs?: number;
  /** Published rows older than this are deleted. @default 1 hour */
  retainMs?: number;
  onError?: (err: unknown) => void;
}

export interface OutboxPublisher {
  /** Publish soon: called after a commit that wrote outbox rows. */
  kick(): void;
  /** Publishes until no unpublished row is left; returns how many were published. */
  flush(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Publishes outbox rows with `msgID = row id`, then marks them published. Rows are claimed with
 * `FOR UPDATE SKIP LOCKED`, so several replicas share the work without publishing a row twice at once; a crash
 * between publish and mark republishes, and JetStream drops the repeat by its msgID.
 */
export function startOutboxPublisher(o: OutboxPublisherOptions): OutboxPublisher {
  const batchSize = o.batchSize ?? 500;
  const pollMs = o.pollMs ?? 1000;
  const retainMs = o.retainMs ?? 3_600_000;
  let stopped = false;
  let kicked = false;
  let wake: (() => void) | null = null;
  let lastPrune = 0;

  async function round(): Promise<number> {
    return o.db.transaction().execute(async (tx) => {
      const rows = await tx
        .selectFrom("outbox")
        .select(["id", "subject", "payload", "headers"])
        .where("published_at", "is", null)
        .orderBy("created_at")
        .limit(batchSize)
        .forUpdate()
        .skipLocked()
        .execute();
      if (rows.length === 0) return 0;
      // Publishes are pipelined; JetStream acks them in order per stream anyway.
      await Promise.all(rows.map((r) => o.sink.publish(r.subject, r.payload, r.id, r.headers)));
      await tx
        .updateTable("outbox")
        .set({ published_at: sql<Date>`now()` })
        .where(
          "id",
          "in",
          rows.map((r) => r.id),
        )
        .execute();
      return rows.length;
    });
  }

  async function flush(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await round();
      total += n;
      if (n < batchSize) return total;
    }
  }

  async function prune(): Promise<void> {
    if (Date.now() - lastPrune < 60_000) return;
    lastPrune = Date.now();
    await o.db
      .deleteFrom("outbox")
      .where("published_at", "<", new Date(Date.now() - retainMs))
      .execute();
  }

  const loop = (async () => {
    while (!stopped) {
      kicked = false;
      try {
        await flush();
        await prune();
      } catch (err) {
        o.onError?.(err);
      }
      if (stopped) break;
      if (!kicked) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, pollMs);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wake = null;
      }
    }
  })();

  return {
    kick() {
      kicked = true;
      wake?.();
    },
    flush,
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
