import { randomUUID } from "node:crypto";
import type { Actor } from "./actor.ts";

export interface TrailEvent {
  eventId: string;
  eventName: string;
  eventSource: string;
  eventTime: number;
  visibleAt: number;
  accessKeyId: string;
  username: string;
  resources: Array<{ ResourceType: string; ResourceName: string }>;
  cloudTrailEvent: string;
}
export interface TrailInput {
  accountId: string;
  eventSource: string;
  eventName: string;
  requestParameters: Record<string, unknown>;
  responseElements?: Record<string, unknown> | null;
  resources?: Array<{ ResourceType: string; ResourceName: string }>;
}

/** Per-account CloudTrail event history (management events), newest last. */
export class CloudTrailLog {
  private readonly byAccount = new Map<string, TrailEvent[]>();
  delayMs = 0;
  region = "us-east-1";

  append(actor: Actor, e: TrailInput, now = Date.now()): TrailEvent {
    const eventId = randomUUID();
    const record = {
      eventVersion: "1.09",
      userIdentity: actor.userIdentity(),
      eventTime: new Date(now).toISOString().replace(/\.\d{3}Z$/, "Z"),
      eventSource: e.eventSource,
      eventName: e.eventName,
      awsRegion: this.region,
      sourceIPAddress: "127.0.0.1",
      userAgent: actor.userAgent ?? "aws-sim",
      requestParameters: e.requestParameters,
      responseElements: e.responseElements ?? null,
      requestID: randomUUID(),
      eventID: eventId,
      readOnly: false,
      eventType: "AwsApiCall",
      managementEvent: true,
      recipientAccountId: e.accountId,
      eventCategory: "Management",
    };
    const ev: TrailEvent = {
      eventId,
      eventName: e.eventName,
      eventSource: e.eventSource,
      eventTime: now,
      visibleAt: now + this.delayMs,
      accessKeyId: actor.accessKeyId ?? "",
      username: actor.trailUsername(),
      resources: e.resources ?? [],
      cloudTrailEvent: JSON.stringify(record),
    };
    let list = this.byAccount.get(e.accountId);
    if (!list) this.byAccount.set(e.accountId, (list = []));
    list.push(ev);
    return ev;
  }

  /** Visible events of one account, newest first. */
  *visible(accountId: string, now = Date.now()): Generator<TrailEvent> {
    const list = this.byAccount.get(accountId) ?? [];
    for (let i = list.length - 1; i >= 0; i--) {
      const ev = list[i]!;
      if (ev.visibleAt <= now) yield ev;
    }
  }
}
