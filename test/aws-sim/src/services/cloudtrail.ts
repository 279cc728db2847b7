import { AwsError } from "../aws-error.ts";
import { epoch } from "../protocols/json.ts";
import type { TrailEvent } from "../cloud-trail-log.ts";
import type { Ctx } from "./context.ts";
import { JsonArgs } from "./json-input.ts";
import type { JsonHandler } from "./json-input.ts";

const KEYS = [
  "EventId",
  "EventName",
  "ReadOnly",
  "Username",
  "ResourceType",
  "ResourceName",
  "EventSource",
  "AccessKeyId",
];
const HORIZON_MS = 90 * 86_400_000;

function matches(e: TrailEvent, key: string, value: string): boolean {
  switch (key) {
    case "EventId":
      return e.eventId === value;
    case "EventName":
      return e.eventName === value;
    case "ReadOnly":
      return String(e.readOnly) === value;
    case "Username":
      return e.username === value;
    case "ResourceType":
      return e.resources.some((r) => r.ResourceType === value);
    case "ResourceName":
      return e.resources.some((r) => r.ResourceName === value);
    case "EventSource":
      return e.eventSource === value;
    case "AccessKeyId":
      return e.accessKeyId === value;
    default:
      return false;
  }
}

export const CLOUDTRAIL_OPERATIONS: Record<string, JsonHandler<Ctx>> = {
  LookupEvents: (ctx, input) => {
    const a = new JsonArgs(input, (m) => new AwsError("InvalidMaxResultsException", m, 400));
    const attrs = Array.isArray(input.LookupAttributes)
      ? (input.LookupAttributes as Array<{ AttributeKey?: string; AttributeValue?: string }>)
      : [];
    if (attrs.length > 1)
      throw new AwsError(
        "InvalidLookupAttributesException",
        "You cannot specify more than one lookup attribute.",
        400,
      );
    const attr = attrs[0];
    if (attr && (!attr.AttributeKey || !KEYS.includes(attr.AttributeKey)))
      throw new AwsError(
        "InvalidLookupAttributesException",
        `Invalid attribute key: ${attr.AttributeKey ?? "null"}`,
        400,
      );
    const nowMs = Date.now();
    const key = `${attr?.AttributeKey ?? ""}=${attr?.AttributeValue ?? ""}:${String(input.StartTime ?? "")}:${String(input.EndTime ?? "")}`;
    const max = a.maxResults(50);
    // The token pins the window's end, the visibility instant and the log's last sequence number, so events recorded
    // between pages (this very call's own read event included) do not shift offsets.
    let offset = 0;
    let pinned: number | undefined;
    let seq = ctx.store.trail.lastSeq();
    const tok = input.NextToken;
    if (tok !== undefined && tok !== null) {
      try {
        const v = JSON.parse(Buffer.from(String(tok), "base64url").toString("utf8")) as {
          o?: unknown;
          k?: unknown;
          e?: unknown;
          s?: unknown;
        };
        if (typeof v.o !== "number" || typeof v.e !== "number" || typeof v.s !== "number" || v.k !== key)
          throw new Error("bad");
        offset = v.o;
        pinned = v.e;
        seq = v.s;
      } catch {
        throw new AwsError("InvalidNextTokenException", "Invalid NextToken.", 400);
      }
    }
    const at = pinned ?? nowMs;
    const start = typeof input.StartTime === "number" ? input.StartTime * 1000 : at - HORIZON_MS;
    const end = Math.min(typeof input.EndTime === "number" ? input.EndTime * 1000 : at, at);
    if (
      typeof input.StartTime === "number" &&
      typeof input.EndTime === "number" &&
      input.StartTime > input.EndTime
    )
      throw new AwsError("InvalidTimeRangeException", "Start time must be before end time.", 400);
    const from = Math.max(start, at - HORIZON_MS);
    const all: TrailEvent[] = [];
    // Event history is per Region: a call signed for another Region does not see these events.
    for (const e of ctx.store.trail.visible(ctx.actor.accountId, at, ctx.requestRegion)) {
      if (e.seq > seq || e.eventTime < from || e.eventTime > end) continue;
      if (attr && !matches(e, attr.AttributeKey!, attr.AttributeValue ?? "")) continue;
      all.push(e);
    }
    const items = all.slice(offset, offset + max);
    const next =
      offset + items.length < all.length
        ? Buffer.from(JSON.stringify({ o: offset + items.length, k: key, e: at, s: seq })).toString(
            "base64url",
          )
        : undefined;
    const r = { items, NextToken: next };
    return {
      Events: r.items.map((e) => ({
        EventId: e.eventId,
        EventName: e.eventName,
        ReadOnly: String(e.readOnly),
        AccessKeyId: e.accessKeyId || undefined,
        EventTime: epoch(e.eventTime),
        EventSource: e.eventSource,
        Username: e.username,
        Resources: e.resources,
        CloudTrailEvent: JSON.stringify(e.record),
      })),
      NextToken: r.NextToken,
    };
  },
};
