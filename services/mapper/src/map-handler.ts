import type { BatchLane, PageResult, ResultBatch } from "@grantline/contracts";
import type { MessageHandler } from "@grantline/nats";

export interface BatchPublisher {
  publish(batch: ResultBatch, lane: BatchLane, signal: AbortSignal): Promise<void>;
}

export interface MapHandlerDeps {
  /** Pure page → batch translation; throws `PermanentError` for a page it cannot read. */
  map(result: PageResult): ResultBatch;
  /** Bounds a batch's rows: a larger page is published as parts (libs/model `splitBatch`). */
  split(batch: ResultBatch): ResultBatch[];
  publisher: BatchPublisher;
}

export function createMapHandler(deps: MapHandlerDeps): MessageHandler<PageResult> {
  return async (result, ctx) => {
    const batch = deps.map(result);
    // Chosen for the page, not per part: only the last part carries the children, and parts sent down two lanes
    // would often bring the last one first (which the writer retries until the earlier ones are in).
    const lane: BatchLane = batch.children.length > 0 ? "chain" : "bulk";
    // In order: the writer settles the task with the last part, once the earlier ones are in.
    for (const part of deps.split(batch)) await deps.publisher.publish(part, lane, ctx.signal);
    ctx.logger.debug(
      {
        taskId: batch.taskId,
        rows: batch.resources.length + batch.grants.length,
        children: batch.children.length,
        lane,
      },
      "page mapped",
    );
  };
}
