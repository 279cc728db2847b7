import type { PageRequest } from "@grantline/contracts";
import type { SourceConfig } from "@grantline/config";
import type { Logger } from "@grantline/log";
import { chooseAssignmentRoute, rootRequests } from "@grantline/model";

export interface RootPlannerDeps {
  /** The source's principals and provisioned pairs as of its last runs (`assignmentCounts` of libs/db). */
  assignmentCounts(sourceId: string): Promise<{ principals: number; pairs: number | null }>;
  logger: Logger;
}

/**
 * A run's root requests. For an AWS source on the `auto` route, the assignment route (per account × permission
 * set pair, or per principal) is chosen from what earlier runs counted: whichever needs fewer calls.
 */
export function createRootPlanner(
  deps: RootPlannerDeps,
): (source: SourceConfig, runId: string) => Promise<PageRequest[]> {
  return async (source, runId) => {
    const assignmentRoute = chooseAssignmentRoute(
      source.assignmentRoute,
      source.kind === "aws" && source.assignmentRoute === "auto"
        ? await deps.assignmentCounts(source.id)
        : null,
    );
    if (source.kind === "aws")
      deps.logger.info({ sourceId: source.id, assignmentRoute }, "assignment route chosen");
    return rootRequests(source, runId, { assignmentRoute });
  };
}
