import type { PageResult, ResultBatch } from "@grantline/contracts";
import type { MessageHandler } from "@grantline/nats";

export interface BatchPublisher {
  publish(batch: ResultBatch, signal: AbortSignal): Promise<void>;
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
    // In order: the writer settles the task with the last part, once the earlier ones are in.
    for (const part of deps.split(batch)) await deps.publisher.publish(part, ctx.signal);
    ctx.logger.debug(
      {
        taskId: batch.taskId,
        rows: batch.resources.length + batch.grants.length,
        children: batch.children.length,
      },
      "page mapped",
    );
  };
}
