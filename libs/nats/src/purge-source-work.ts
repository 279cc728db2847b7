import type { JetStreamManager } from "@nats-io/jetstream";
import type { Subjects } from "@grantline/contracts";

/**
 * Removes a source's queued work from the pipeline's work-queue streams: page requests, page results and
 * batches of both lanes (subject-filtered purge, available on 2.9). Safe only because a source has at most one
 * active run: whatever is queued for the source is that run's. Messages already handed to a consumer are not
 * reached: see `watchCancelledRuns`. Returns how many messages were removed.
 */
export async function purgeSourceWork(
  jsm: JetStreamManager,
  subjects: Subjects,
  sourceId: string,
): Promise<{ pageRequests: number; pageResults: number; batches: number }> {
  const purge = async (stream: string, filter: string) =>
    (await jsm.streams.purge(stream, { filter })).purged;
  return {
    pageRequests: await purge(subjects.streams.pageRequests, subjects.pageRequestsOf(sourceId)),
    pageResults: await purge(subjects.streams.pageResults, subjects.pageResultsOf(sourceId)),
    batches:
      (await purge(subjects.streams.batches, subjects.batch(sourceId))) +
      (await purge(subjects.streams.batches, subjects.chainBatch(sourceId))),
  };
}
