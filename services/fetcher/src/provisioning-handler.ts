import type { AssignmentExecutor } from "@grantline/aws";
import {
  type AccessChangeOutcome,
  PermanentError,
  type ProvisioningDone,
  type ProvisioningExec,
} from "@grantline/contracts";
import type { MessageHandler } from "@grantline/nats";

export interface ProvisioningHandlerDeps {
  executor: Pick<AssignmentExecutor, "grant" | "revoke">;
  /** Hands the final answer to the scheduler (`<prefix>.prov.done.<source>`, msgID `provdone:<call>:<attempt>`). */
  publishDone(done: ProvisioningDone): Promise<void>;
}

/**
 * Makes one AWS change and publishes AWS's final answer; only then is the message acknowledged, so a fetcher
 * that dies mid-operation leaves it to be redelivered (the changes are idempotent: "already assigned", "already
 * a member" succeed). Retryable failures (throttling, a conflict that outlasted its backoff, a status still
 * `IN_PROGRESS` after the poll bound) are thrown and the message is retried; a change this fetcher cannot make
 * for good (an unknown source) is answered as failed rather than dead-lettered, so its requester learns why.
 */
export function createProvisioningHandler(deps: ProvisioningHandlerDeps): MessageHandler<ProvisioningExec> {
  return async (exec, ctx) => {
    const started = performance.now();
    const changeCtx = { signal: ctx.signal, logger: ctx.logger };
    let outcome: AccessChangeOutcome;
    try {
      outcome =
        exec.call.action === "create"
          ? await deps.executor.grant(exec.call, changeCtx)
          : await deps.executor.revoke(exec.call, changeCtx);
    } catch (err) {
      if (!(err instanceof PermanentError)) throw err;
      outcome = { outcome: "failed", reason: err.message, code: `grantline:${err.reason}` };
    }
    await deps.publishDone({
      callId: exec.callId,
      attempt: exec.attempt,
      sourceId: exec.call.sourceId,
      requestIds: exec.call.requestIds,
      action: exec.call.action,
      outcome,
      ms: Math.round(performance.now() - started),
    });
  };
}
