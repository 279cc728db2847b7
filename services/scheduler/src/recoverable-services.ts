import { fetcherDurable, pipelineConsumers, ServiceName, type Subjects } from "@grantline/contracts";

/** The consumer info call the check reads (structurally `JetStreamManager`). */
export interface ConsumerState {
  consumers: {
    info(stream: string, durable: string): Promise<{ num_pending: number }>;
  };
}

/**
 * The AWS services whose stalled sync tasks may be re-published now: those whose message cannot be waiting,
 * undelivered, in a queue. A task's message waits at its service's fetcher consumer, then at the mapper and the
 * writer, which all services share; so a service qualifies when its fetcher consumer and the shared stages have
 * nothing undelivered (`num_pending`). A consumer not created yet holds nothing.
 *
 * Messages in flight (`num_ack_pending`: delivered, being handled or retried after a nak) do not count. That is
 * the point: one message that keeps failing — a poison batch, an unreachable source's requests retrying for
 * minutes — used to hold the whole pipeline "busy" and with it the recovery of every lost task. Each stalled
 * task's own request is then looked for in its fetcher queue (`createQueuedTasksCheck`): one still there is not
 * re-published. One in flight at the mapper or writer gets a second copy, which the writer ignores once the
 * task is done; the per-task backoff of `republishStalledTasks` bounds how many.
 *
 * Feed polls never stop: the mapper and writer may hold one undelivered message per open feed window
 * (`feedWindowsOpen`) without it counting as a sync backlog.
 */
export function createRecoverableServicesCheck(
  subjects: Subjects,
  state: ConsumerState,
  feedWindowsOpen: () => Promise<number> = () => Promise.resolve(0),
): () => Promise<ServiceName[]> {
  const undelivered = async (stream: string, durable: string) =>
    (await state.consumers.info(stream, durable).catch(() => null))?.num_pending ?? 0;
  return async () => {
    let shared = 0;
    const free: ServiceName[] = [];
    for (const { stream, durable } of pipelineConsumers(subjects)) {
      const service = ServiceName.options.find((s) => fetcherDurable(s) === durable);
      const waiting = await undelivered(stream, durable);
      if (service === undefined) shared += waiting;
      else if (waiting === 0) free.push(service);
    }
    if (shared > 0 && shared > (await feedWindowsOpen())) return [];
    return free;
  };
}
