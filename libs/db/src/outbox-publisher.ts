import { sql } from "kysely";
import { expandOutboxRow, type PublishableRow } from "./compact-events.ts";
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
  /** Rows per round, and about as many messages (a compact row holds many). @default 500 */
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
 * Publishes outbox rows with `msgID = row id` — a compact row as the events it holds, each with its event's
 * `evt:<id>` — then marks them published. Rows are claimed with
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

  /** One round: the rows it settled, and whether rows it claimed were left for the next round. */
  async function round(): Promise<{ rows: number; more: boolean }> {
    return o.db.transaction().execute(async (tx) => {
      const claimed = await tx
        .selectFrom("outbox")
        .select(["id", "subject", "payload", "headers"])
        .where("published_at", "is", null)
        .orderBy("created_at")
        .limit(batchSize)
        .forUpdate()
        .skipLocked()
        .execute();
      // A compact row holds a whole batch's events: rows are taken, in order, until about `batchSize` messages;
      // the rest stay claimed only until this transaction ends and come first next round.
      const rows: typeof claimed = [];
      const messages: PublishableRow[] = [];
      for (const r of claimed) {
        if (rows.length > 0 && messages.length >= batchSize) break;
        rows.push(r);
        messages.push(...expandOutboxRow(r));
      }
      if (rows.length === 0) return { rows: 0, more: false };
      // Publishes are pipelined; JetStream acks them in order per stream anyway. Marked published only after
      // every message of every row is acked: a crash part-way through a compact row republishes all of it, and
      // JetStream drops the repeats by msgID (the event id).
      await Promise.all(messages.map((m) => o.sink.publish(m.subject, m.payload, m.id, m.headers)));
      await tx
        .updateTable("outbox")
        .set({ published_at: sql<Date>`now()` })
        .where(
          "id",
          "in",
          rows.map((r) => r.id),
        )
        .execute();
      return { rows: rows.length, more: rows.length < claimed.length || claimed.length === batchSize };
    });
  }

  async function flush(): Promise<number> {
    let total = 0;
    for (;;) {
      const r = await round();
      total += r.rows;
      if (!r.more) return total;
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
