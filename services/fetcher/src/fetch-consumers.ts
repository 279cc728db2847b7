import type { AssignmentExecutor } from "@grantline/aws";
import {
  LEGACY_FETCHER_DURABLE,
  PageRequest,
  PROVISIONING_DURABLES,
  ProvisioningExec,
  ServiceName,
  fetcherDurable,
} from "@grantline/contracts";
import type { Redis } from "@grantline/redis";
import {
  publishJson,
  retireConsumer,
  startStage,
  type MessageHandler,
  type RunningConsumer,
  type ServiceRuntime,
  type StageSettings,
} from "@grantline/nats";
import type { AwsMetrics } from "./aws-metrics.ts";
import {
  createFetcherProvisioning,
  type FetcherProvisioningSettings,
} from "./create-fetcher-provisioning.ts";
import { createProvisioningHandler } from "./provisioning-handler.ts";

/**
 * Starts one consumer per AWS service, so one service's queue (waiting for its budget) never holds the
 * delivery slots another service's requests need (libs/contracts fetcherDurable). An earlier release's
 * all-services consumer is removed first: the work-queue stream refuses overlapping filters; its undelivered
 * work moves over.
 */
export async function startFetchConsumers(
  rt: Pick<ServiceRuntime, "js" | "jsm" | "subjects" | "logger" | "metrics">,
  handler: MessageHandler<PageRequest>,
  settings: StageSettings & { LIST_PAGES_READ_ITEMS: boolean },
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
        // A page that reads its items may wait minutes on a budget shared with the pages ahead of it: the
        // requests behind it are kept alive, not delivered again after ACK_WAIT_MS (a few hundred bytes each).
        // The scheduler finds held requests in the queue and does not re-publish them (queued-tasks.ts).
        holdWhileBusy: settings.LIST_PAGES_READ_ITEMS,
      }),
    ),
  );
}

/**
 * Starts the consumer of AWS changes to make (provisioning) with its executor. An execution may wait minutes
 * (a slot of the outstanding-operation cap, status polls): the consume loop's heartbeat keeps the message, and a
 * fetcher that dies leaves it to be redelivered.
 */
export async function startProvisioningConsumer(
  rt: Pick<ServiceRuntime, "js" | "jsm" | "subjects" | "logger" | "metrics">,
  config: FetcherProvisioningSettings & StageSettings,
  deps: { redis: Redis } & Pick<AwsMetrics, "onCall" | "onBudget">,
): Promise<{ consumer: RunningConsumer; executor: AssignmentExecutor }> {
  const { js, jsm, subjects, logger, metrics } = rt;
  const executor = createFetcherProvisioning(config, { ...deps, logger });
  const handler = createProvisioningHandler({
    executor,
    publishDone: async (done) => {
      await publishJson(js, subjects.provisioningDone(done.sourceId), done, {
        msgID: `provdone:${done.callId}:${done.attempt}`,
      });
    },
  });
  const consumer = await startStage({
    js,
    jsm,
    subjects,
    stage: "fetcher",
    stream: subjects.streams.provisioning,
    filterSubject: subjects.all.provisioningExec,
    durable: PROVISIONING_DURABLES.fetcher,
    schema: ProvisioningExec,
    handler,
    settings: config,
    logger: logger.child({ component: "provisioning" }),
    observe: (outcome, seconds) => metrics.recordMessage("fetcher", outcome, seconds),
  });
  return { consumer, executor };
}
