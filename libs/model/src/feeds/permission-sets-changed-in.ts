import { expandFeedPolls, type PageRequest } from "@grantline/contracts";
import { list } from "../aws/page-helpers.ts";
import { classifyLookupEvent } from "./map-lookup-events.ts";
import type { TranslationContext } from "./translate-record.ts";

/** Identity Center's admin API: the only event source whose events change a permission set's definition. */
const SSO_EVENT_SOURCE = "sso.amazonaws.com";

type Json = Record<string, unknown>;

/**
 * The permission sets a fetched feed page says changed: the ARNs of the `permission-set` refreshes its records
 * translate to (the translation table's own rules, so the two cannot disagree), for a `cloudtrail.LookupEvents`
 * page or each feed page of a `cloudtrail.PollFeeds` one; empty for any other request. Failed calls translate to
 * nothing, so they change nothing. Only records of `sso.amazonaws.com` are parsed: the combined management feed
 * carries every write event of its Region, and parsing the rest would be CPU spent for nothing.
 *
 * @example
 * permissionSetsChangedIn(lookupEventsRequest, { Events: [putInlinePolicyToPermissionSetItem] })
 * // → ["arn:aws:sso:::permissionSet/ssoins-1/ps-1"]
 */
export function permissionSetsChangedIn(request: PageRequest, page: Json): string[] {
  if (request.service !== "cloudtrail") return [];
  const arns = new Set<string>();
  const scan = (r: PageRequest, p: Json): void => {
    const context = (r.params.Context ?? {}) as TranslationContext;
    for (const item of list(p, "Events")) {
      if (item.EventSource !== SSO_EVENT_SOURCE) continue;
      for (const intent of classifyLookupEvent(item, context)?.intents ?? [])
        if (intent.kind === "permission-set") arns.add(intent.permissionSetArn);
    }
  };
  if (request.operation === "LookupEvents") scan(request, page);
  if (request.operation === "PollFeeds") {
    const polls = expandFeedPolls(request);
    list(page, "Feeds").forEach((outcome, i) => {
      const poll = polls[i];
      const p = outcome.Page;
      if (poll && typeof p === "object" && p !== null) scan(poll, p as Json);
    });
  }
  return [...arns];
}
