import { deterministicId } from "./ids.ts";
import type { PageRequest } from "./messages.ts";

/**
 * The id of the task a page request stands for. The same run asking for the same page twice gets the same id,
 * which is what makes child creation, publishing and writing idempotent.
 */
export function taskIdFor(
  r: Pick<PageRequest, "runId" | "service" | "operation" | "params" | "pageToken" | "accountId">,
): string {
  return deterministicId("task", r.runId, r.service, r.operation, r.params, r.pageToken, r.accountId);
}

/** Builds a full page request with its deterministic task id. */
export function pageRequest(r: Omit<PageRequest, "v" | "taskId"> & { v?: 1; taskId?: string }): PageRequest {
  // Any taskId passed in (spreading a parent request) is replaced: the id must describe this page.
  const { v: _v, taskId: _t, ...rest } = r;
  return { v: 1, taskId: taskIdFor(rest), ...rest };
}
