import type { AwsExecutor } from "@grantline/aws";
import type { Logger } from "@grantline/log";
import { permissionSetsChangedIn } from "@grantline/model";
import type { JsonCache } from "@grantline/redis";

/**
 * The AWS executor, dropping the cached description of every permission set a fetched feed page says changed
 * (`permissionSetsChangedIn`) before the page goes on to the mapper. A full sync trusts the permission-set cache
 * for its TTL; this is what keeps that trust safe when feeds run: from the moment a feed has seen a set change,
 * the next read of that set — a full sync's, whichever replica — goes to AWS, even before the targeted refresh
 * the event queues (which reads AWS regardless and rewrites the entry) has run. Dropping an entry is always safe:
 * at worst a set is described once more. It is best effort (a cache that is unavailable drops the delete too);
 * the refresh remains the guarantee.
 *
 * @example
 * const aws = withPermissionSetInvalidation(createAwsExecutor({ ..., permissionSetCache: cache }), cache, logger);
 */
export function withPermissionSetInvalidation(
  executor: AwsExecutor,
  cache: Pick<JsonCache, "deleteMany">,
  logger: Pick<Logger, "debug" | "warn">,
): AwsExecutor {
  return {
    async execute(request, ctx) {
      const outcome = await executor.execute(request, ctx);
      if (request.service !== "cloudtrail" || outcome.skipped) return outcome;
      let arns: string[] = [];
      try {
        arns = permissionSetsChangedIn(request, outcome.page);
      } catch (err) {
        // An unreadable page is the mapper's to dead-letter; it must not fail the fetch here.
        logger.warn({ err, taskId: request.taskId }, "feed page unreadable; no permission set invalidated");
      }
      if (arns.length > 0) {
        await cache.deleteMany(arns);
        logger.debug(
          { taskId: request.taskId, permissionSetArns: arns },
          "changed permission sets invalidated",
        );
      }
      return outcome;
    },
    close: () => executor.close(),
  };
}
