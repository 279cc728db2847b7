import type { Subjects } from "@grantline/contracts";
import { messageIds } from "./start-consumer.ts";

/** The stream message read the check makes (structurally `JetStreamManager`). */
export interface StreamMessages {
  streams: {
    getMessage(
      stream: string,
      query: { seq: number },
    ): Promise<{ seq: number; data: Uint8Array; header?: { get(k: string): string } } | null>;
  };
}

// Far more requests than a drained fetcher queue holds (max_ack_pending, 256 by default): the caller's gate
// (no undelivered requests) was raced by a new backlog.
const SCAN_LIMIT = 10_000;

/**
 * The tasks whose page request is still in the page-requests stream for these AWS services: waiting, held by a
 * fetcher until a slot frees, or being fetched (the stream is a work queue: a request leaves it when a fetcher
 * acks it). Such a task is slow, not lost, and is not re-published: a fetcher that reads a list page's items
 * holds requests for minutes behind a shared budget, and a copy would be fetched a second time. A fetcher that
 * dies leaves its requests to be delivered again after ack_wait.
 *
 * Meant for services with no undelivered requests (`createRecoverableServicesCheck`), whose queue holds at most
 * the consumer's max_ack_pending: it reads every request of theirs, one server call each. It throws rather than
 * read more than `limit`, so that the tick re-publishes nothing it could not check.
 */
export function createQueuedTasksCheck(
  subjects: Subjects,
  jsm: StreamMessages,
  limit = SCAN_LIMIT,
): (services: readonly string[]) => Promise<ReadonlySet<string>> {
  const stream = subjects.streams.pageRequests;
  return async (services) => {
    const queued = new Set<string>();
    let read = 0;
    for (const service of services) {
      // `next_by_subj` (server 2.9+, wildcards included): the first message at or after `seq` on the subject.
      const next = { next_by_subj: subjects.pageRequestsFor(service) };
      for (let seq = 0; ;) {
        const m = await jsm.streams.getMessage(stream, { ...next, seq });
        if (m === null) break;
        if (++read > limit)
          throw new Error(`more than ${limit} page requests queued for ${services.join(", ")}`);
        const taskId = requestTaskId(m);
        if (taskId !== undefined) queued.add(taskId);
        seq = m.seq + 1;
      }
    }
    return queued;
  };
}

/** A request's task: its msgID (`req:<task>` or `req:<task>:<attempt>`, libs/db requestRow), else its body. */
function requestTaskId(m: { data: Uint8Array; header?: { get(k: string): string } }): string | undefined {
  const id = m.header?.get("Nats-Msg-Id") ?? "";
  if (id.startsWith("req:")) return id.split(":")[1];
  try {
    return messageIds(JSON.parse(Buffer.from(m.data).toString("utf8"))).taskId ?? undefined;
  } catch {
    return undefined;
  }
}
