import { ResultBatch, WRITER_DURABLES, type BatchLane } from "@grantline/contracts";
import {
  startStage,
  type MessageHandler,
  type RunningConsumer,
  type StartStageOptions,
} from "@grantline/nats";

type LaneOptions = Omit<
  StartStageOptions<typeof ResultBatch>,
  "stream" | "filterSubject" | "durable" | "schema" | "handler"
>;

/**
 * The writer's two consumers of the batches stream, one per lane, each with its lane's handler over the same
 * store (and so the same group commit). The chain lane — batches whose commit queues tasks — is read apart from
 * the bulk so that a chain's next page never waits behind thousands of leaves; it holds a quarter of
 * `MAX_IN_FLIGHT` (at least 2), since such batches are a small share of a sync (one per page of a chain, one per
 * page that lists what is then described).
 */
export async function startBatchConsumers(
  o: LaneOptions,
  handlerFor: (lane: BatchLane) => MessageHandler<ResultBatch>,
): Promise<RunningConsumer[]> {
  const { subjects, settings } = o;
  const stream = subjects.streams.batches;
  const common = { ...o, stream, schema: ResultBatch };
  return Promise.all([
    startStage({
      ...common,
      handler: handlerFor("bulk"),
      filterSubject: subjects.all.batches,
      durable: WRITER_DURABLES.bulk,
    }),
    startStage({
      ...common,
      handler: handlerFor("chain"),
      filterSubject: subjects.all.chainBatches,
      durable: WRITER_DURABLES.chain,
      settings: { ...settings, MAX_IN_FLIGHT: Math.max(2, Math.ceil(settings.MAX_IN_FLIGHT / 4)) },
    }),
  ]);
}
