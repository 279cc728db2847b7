import {
  expandFeedPolls,
  FeedPollOutcome,
  PermanentError,
  type FeedPage,
  type PageRequest,
  type PageResult,
  type ResultBatch,
} from "@grantline/contracts";
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

/**
 * Several feeds' first pages (`cloudtrail.PollFeeds`): each mapped as its own `cloudtrail.LookupEvents` page
 * would be, into one batch — its feed page, and its next page as a single-feed chain. A feed denied or failed
 * has no page: its window closes without a commit when the task settles, and is read again later.
 */
export function mapPollFeeds(res: PageResult): ResultBatch {
  const subs = expandFeedPolls(res.request);
  const outcomes = list(res.page, "Feeds").map((o) => FeedPollOutcome.parse(o));
  if (outcomes.length !== subs.length)
    throw new PermanentError(
      "bad-request",
      `cloudtrail.PollFeeds: ${outcomes.length} outcomes for ${subs.length} polls`,
    );
  const feeds: FeedPage[] = [];
  const children: PageRequest[] = [];
  const warnings: string[] = [];
  subs.forEach((sub, i) => {
    const o = outcomes[i]!;
    warnings.push(...o.Warnings);
    if (o.Page === undefined) {
      warnings.push(
        `feed ${o.FeedId}: ${o.Failed ?? `skipped (${o.Skipped ?? "denied"})`}; read again later`,
      );
      return;
    }
    const b = mapLookupEvents({ ...res, request: sub, page: o.Page, warnings: [], skipped: null });
    if (b.feed) feeds.push(b.feed);
    children.push(...b.children);
    warnings.push(...b.warnings);
  });
  const batch = batchFor({ ...res, page: {} }, { warnings, children });
  return { ...batch, scopeComplete: false, feeds };
}
