import { PermanentError, type FeedPage, type PageResult, type ResultBatch } from "@grantline/contracts";
import { batchFor, list, nextToken, param } from "../aws/page-helpers.ts";
import { lookupEventSummary, parseChangeRecord } from "./parse-change-record.ts";
import { translateRecord, type TranslationContext } from "./translate-record.ts";

type PageRecord = FeedPage["records"][number];

/** Classifies one LookupEvents item; a record that cannot be read is `unknown` (counted, logged by its id). */
export function classifyLookupEvent(
  item: Record<string, unknown>,
  context: TranslationContext = {},
): PageRecord | null {
  const summary = lookupEventSummary(item);
  if (!summary) return null;
  const record = parseChangeRecord(item);
  if (!record) return { ...summary, outcome: "unknown", intents: [] };
  const t = translateRecord(record, context);
  return {
    eventId: record.eventId,
    eventTime: record.eventTime,
    eventName: record.eventName,
    outcome: t.outcome,
    intents: t.intents,
  };
}

/**
 * One page of a feed's window (`cloudtrail.LookupEvents`): every record classified by the translation table,
 * the next page (same window: identical StartTime, EndTime and FeedId, CloudTrail's NextToken) as a child. The
 * writer de-duplicates and, on the last page, commits the feed's cursor with the refreshes.
 */
export function mapLookupEvents(res: PageResult): ResultBatch {
  const feedId = param(res.request, "FeedId");
  const records: PageRecord[] = [];
  const warnings: string[] = [];
  const ctx = res.request.params.Context as TranslationContext | undefined;
  for (const item of list(res.page, "Events")) {
    const r = classifyLookupEvent(item, ctx ?? {});
    if (r) records.push(r);
    else warnings.push(`feed ${feedId}: an event without id or time was skipped`);
  }
  for (const r of records)
    if (r.outcome === "unknown")
      warnings.push(`feed ${feedId}: event ${r.eventId} (${r.eventName}) not understood`);
  const batch = batchFor(res, { warnings });
  if (batch.scope !== null) throw new PermanentError("bad-request", "a feed page has no sweep scope");
  const feed: FeedPage = {
    feedId,
    records,
    windowComplete: nextToken(res.page) === null,
    windowEnd: new Date(param(res.request, "EndTime")).toISOString(),
  };
  return { ...batch, scopeComplete: false, feed };
}
