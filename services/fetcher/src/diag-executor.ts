import { RetryableError, type PageRequest } from "@grantline/contracts";
import { diagPage, diagParams } from "@grantline/model";
import type { PageExecutor } from "./fetch-handler.ts";

/** Serves the synthetic `diag` service (pipeline self-test); `failUntilDelivery` exercises the retry path. */
export function createDiagExecutor(): PageExecutor {
  return {
    execute(request: PageRequest, ctx) {
      const p = diagParams(request.params);
      if (ctx.deliveryCount < p.failUntilDelivery) {
        return Promise.reject(
          new RetryableError(
            `diag: simulated transient failure (delivery ${ctx.deliveryCount} of ${p.failUntilDelivery})`,
            { retryAfterMs: 200 },
          ),
        );
      }
      return Promise.resolve({ page: diagPage(request), warnings: [] });
    },
  };
}
