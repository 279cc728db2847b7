import { pipelineConsumers, type Subjects } from "@grantline/contracts";

/** The consumer info call the check reads (structurally `JetStreamManager`). */
export interface ConsumerState {
  consumers: {
    info(stream: string, durable: string): Promise<{ num_pending: number; num_ack_pending: number }>;
  };
}

/**
 * True when no pipeline consumer has messages waiting or in flight: only then is a pending task's message
 * known to be lost rather than queued behind a backlog. A consumer not created yet holds nothing.
 */
export function createPipelineIdleCheck(subjects: Subjects, state: ConsumerState): () => Promise<boolean> {
  return async () => {
    for (const { stream, durable } of pipelineConsumers(subjects)) {
      const c = await state.consumers.info(stream, durable).catch(() => null);
      if (c && (c.num_pending > 0 || c.num_ack_pending > 0)) return false;
    }
    return true;
  };
}
