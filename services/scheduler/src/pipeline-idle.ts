import { fetcherDurable, pipelineConsumers, type Subjects } from "@grantline/contracts";

/** The consumer info call the check reads (structurally `JetStreamManager`). */
export interface ConsumerState {
  consumers: {
    info(stream: string, durable: string): Promise<{ num_pending: number; num_ack_pending: number }>;
  };
}

/**
 * True when no pipeline consumer has sync messages waiting or in flight: only then is a pending sync task's
 * message known to be lost rather than queued behind a backlog. A consumer not created yet holds nothing.
 *
 * Feed polls never stop, so they must not count (the check would never see idle): the CloudTrail fetcher carries
 * nothing else and is skipped, and the mapper and writer may hold one message per open feed window
 * (`feedWindowsOpen`) — a sync message hidden in that allowance is at worst re-published once more, which the
 * writer ignores.
 */
export function createPipelineIdleCheck(
  subjects: Subjects,
  state: ConsumerState,
  feedWindowsOpen: () => Promise<number> = () => Promise.resolve(0),
): () => Promise<boolean> {
  const feedsOnly = fetcherDurable("cloudtrail");
  return async () => {
    let shared = 0;
    for (const { stream, durable } of pipelineConsumers(subjects)) {
      if (durable === feedsOnly) continue;
      const c = await state.consumers.info(stream, durable).catch(() => null);
      if (!c) continue;
      const held = c.num_pending + c.num_ack_pending;
      if (stream === subjects.streams.pageRequests) {
        if (held > 0) return false;
      } else shared += held;
    }
    return shared === 0 || shared <= (await feedWindowsOpen());
  };
}
