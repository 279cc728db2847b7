import type { SchedulerConfig } from "@grantline/config";
import { PROVISIONING_DURABLES, ProvisioningDone, type ProvisioningExec } from "@grantline/contracts";
import * as pgdb from "@grantline/db";
import {
  publishJson,
  startStage,
  type MessageHandler,
  type RunningConsumer,
  type ServiceRuntime,
} from "@grantline/nats";
import { createProvisioningTick } from "./provisioning-tick.ts";

/** A handful of small messages: fixed consumer settings rather than environment the scheduler has no use for. */
const DONE_CONSUMER = { MAX_IN_FLIGHT: 16, MAX_DELIVER: 30, ACK_WAIT_MS: 30_000 };

export interface SchedulerProvisioning {
  /** The leader's step of the feed tick loop. */
  tick: () => Promise<void>;
  /** Every replica records the fetchers' answers (the durable consumer shares them out). */
  answers: RunningConsumer;
}

/** Records a fetcher's final answer for the requests it carried out; the outbox then publishes their events. */
export function createProvisioningDoneHandler(deps: {
  record(done: ProvisioningDone): Promise<number>;
  kickOutbox(): void;
}): MessageHandler<ProvisioningDone> {
  return async (done, ctx) => {
    const moved = await deps.record(done);
    if (moved > 0) deps.kickOutbox();
    ctx.logger.info(
      { callId: done.callId, attempt: done.attempt, outcome: done.outcome.outcome, ms: done.ms, moved },
      "provisioning answer recorded",
    );
  };
}

/**
 * Provisioning in the scheduler: executions go to the fetcher (`<prefix>.prov.exec.<source>`), answers come back
 * (`<prefix>.prov.done.<source>`), and the leader confirms each change by the targeted re-read the answer queued.
 */
export async function startSchedulerProvisioning(
  rt: Pick<ServiceRuntime, "js" | "jsm" | "subjects" | "logger" | "metrics">,
  d: {
    config: Pick<
      SchedulerConfig,
      "PROVISIONING_STALL_MS" | "PROVISIONING_MAX_ATTEMPTS" | "PROVISIONING_CONFIRM_READS"
    >;
    db: pgdb.Db;
    isLeader: () => boolean;
    kickOutbox: () => void;
  },
): Promise<SchedulerProvisioning> {
  const { js, jsm, subjects, logger, metrics } = rt;
  const publish = async (exec: ProvisioningExec) => {
    await publishJson(js, subjects.provisioningExec(exec.call.sourceId), exec, {
      msgID: `prov:${exec.callId}:${exec.attempt}`,
    });
  };
  const tick = createProvisioningTick({
    isLeader: d.isLeader,
    start: () => pgdb.startProvisioningCalls(d.db, subjects, publish),
    recover: () =>
      pgdb.republishStalledProvisioning(d.db, subjects, publish, {
        stallMs: d.config.PROVISIONING_STALL_MS,
        maxAttempts: d.config.PROVISIONING_MAX_ATTEMPTS,
      }),
    confirm: () =>
      pgdb.confirmProvisioning(d.db, subjects, { maxReads: d.config.PROVISIONING_CONFIRM_READS }),
    kickOutbox: d.kickOutbox,
    logger,
  });
  const answers = await startStage({
    js,
    jsm,
    subjects,
    stage: "scheduler",
    stream: subjects.streams.provisioning,
    filterSubject: subjects.all.provisioningDone,
    durable: PROVISIONING_DURABLES.scheduler,
    schema: ProvisioningDone,
    handler: createProvisioningDoneHandler({
      record: (done) => pgdb.recordProvisioningDone(d.db, subjects, done),
      kickOutbox: d.kickOutbox,
    }),
    settings: DONE_CONSUMER,
    logger: logger.child({ component: "provisioning" }),
    observe: (outcome, seconds) => metrics.recordMessage("scheduler", outcome, seconds),
  });
  return { tick, answers };
}
