import { LEGACY_FETCHER_DURABLE, PageRequest, ServiceName, fetcherDurable } from "@grantline/contracts";
import {
  retireConsumer,
  startStage,
  type MessageHandler,
  type RunningConsumer,
  type ServiceRuntime,
  type StageSettings,
} from "@grantline/nats";

/**
 * Starts one consumer per AWS service, so one service's queue (waiting for its budget) never holds the
 * delivery slots another service's requests need (libs/contracts fetcherDurable). An earlier release's
 * all-services consumer is removed first: the work-queue stream refuses overlapping filters; its undelivered
 * work moves over.
 */
export async function startFetchConsumers(
  rt: Pick<ServiceRuntime, "js" | "jsm" | "subjects" | "logger" | "metrics">,
  handler: MessageHandler<PageRequest>,
  settings: StageSettings,
): Promise<RunningConsumer[]> {
  const { js, jsm, subjects, logger, metrics } = rt;
  if (await retireConsumer(jsm, subjects.streams.pageRequests, LEGACY_FETCHER_DURABLE))
    logger.info(
      { durable: LEGACY_FETCHER_DURABLE },
      "removed the all-services fetcher consumer of an older release",
    );
  return Promise.all(
    ServiceName.options.map((service) =>
      startStage({
        js,
        jsm,
        subjects,
        stage: "fetcher",
        stream: subjects.streams.pageRequests,
        filterSubject: subjects.pageRequestsFor(service),
        durable: fetcherDurable(service),
        schema: PageRequest,
        handler,
        settings,
        logger,
        observe: (outcome, seconds) => metrics.recordMessage("fetcher", outcome, seconds),
      }),
    ),
  );
}
