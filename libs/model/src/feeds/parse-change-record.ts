import { ChangeRecord } from "@grantline/contracts";

type Json = Record<string, unknown>;

const obj = (v: unknown): Json | null =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : null;
const text = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** CloudTrail writes `readOnly` as a boolean in the record and as "true"/"false" in LookupEvents' summary. */
function bool(v: unknown): boolean | null {
  if (typeof v === "boolean") return v;
  if (v === "true") return true;
  if (v === "false") return false;
  return null;
}

function isoTime(v: unknown): string | null {
  if (typeof v !== "string" && typeof v !== "number") return null;
  const t = typeof v === "number" ? v * 1000 : Date.parse(v);
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}

/** The identifying fields of a LookupEvents item, readable even when its `CloudTrailEvent` is not. */
export interface LookupEventSummary {
  eventId: string;
  eventTime: string;
  eventName: string;
}

/** Reads the summary fields of one LookupEvents item; null when it has no id or time (nothing to de-duplicate by). */
export function lookupEventSummary(item: Json): LookupEventSummary | null {
  const eventId = text(item.EventId);
  const eventTime = isoTime(item.EventTime);
  if (!eventId || !eventTime) return null;
  return { eventId, eventTime, eventName: text(item.EventName) ?? "(unnamed)" };
}

/**
 * One LookupEvents item as a `ChangeRecord`: the `CloudTrailEvent` JSON is the record (CloudTrail's own field
 * names), the item's summary fields fill what it lacks. Null when the record cannot be read: the caller counts it
 * as unknown under the summary's event id.
 */
export function parseChangeRecord(item: Json): ChangeRecord | null {
  const summary = lookupEventSummary(item);
  if (!summary) return null;
  let record: Json | null = null;
  try {
    record = obj(JSON.parse(typeof item.CloudTrailEvent === "string" ? item.CloudTrailEvent : "null"));
  } catch {
    return null;
  }
  if (!record) return null;
  const parsed = ChangeRecord.safeParse({
    eventId: text(record.eventID) ?? summary.eventId,
    eventTime: isoTime(record.eventTime) ?? summary.eventTime,
    eventSource: text(record.eventSource) ?? text(item.EventSource) ?? "",
    eventName: text(record.eventName) ?? summary.eventName,
    readOnly: bool(record.readOnly) ?? bool(item.ReadOnly) ?? false,
    errorCode: text(record.errorCode),
    accountId: text(record.recipientAccountId),
    region: text(record.awsRegion),
    requestParameters: obj(record.requestParameters),
    responseElements: obj(record.responseElements),
    userIdentity: obj(record.userIdentity),
  });
  return parsed.success ? parsed.data : null;
}
