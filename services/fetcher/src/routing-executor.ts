import { RetryableError, type PageRequest } from "@grantline/contracts";
import type { PageExecutor } from "./fetch-handler.ts";

/** Routes a request to the executor of its service. */
export function createRoutingExecutor(
  routes: Partial<Record<PageRequest["service"], PageExecutor>>,
): PageExecutor {
  return {
    execute(request, ctx) {
      const ex = routes[request.service];
      if (!ex)
        return Promise.reject(
          new RetryableError(`no executor for service ${request.service} in this fetcher`),
        );
      return ex.execute(request, ctx);
    },
  };
}
