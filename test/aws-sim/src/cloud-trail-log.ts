import { randomUUID } from "node:crypto";
import type { Actor } from "./actor.ts";
import { trailDelaySampler } from "./trail-delay.ts";
import type { TrailDelay } from "./trail-delay.ts";

export interface TrailEvent {
  /** Append order (1, 2, …): LookupEvents' tokens pin it so later appends never shift a page. */
  seq: number;
  eventId: string;
  eventName: string;
  eventSource: string;
  eventTime: number;
  /** eventTime + a delivery delay drawn from the configured distribution: LookupEvents hides the event until then. */
  visibleAt: number;
  accessKeyId: string;
  username: string;
  resources: Array<{ ResourceType: string; ResourceName: string }>;
  readOnly: boolean;
  /** The AWS Region the event is recorded in; LookupEvents shows an event only in its Region. */
  region: string;
  errorCode?: string;
  /** The CloudTrail record (LookupEvents serializes it as `CloudTrailEvent`). */
  record: Record<string, unknown>;
}
export interface TrailInput {
  accountId: string;
  eventSource: string;
  eventName: string;
  requestParameters: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  resources?: Array<{ ResourceType: string; ResourceName: string }>;
  readOnly?: boolean;
  /** A failed call: AWS records it with the error and without responseElements. */
  error?: { code: string; message: string };
  /** Overrides the actor's identity (SCIM calls are made by the IdP's bearer token, not an AWS principal). */
  userIdentity?: Record<string, unknown>;
  /** Overrides the Region derived from the event source. */
  region?: string;
  /** `AwsServiceEvent` for events AWS emits itself (e.g. Organizations' CreateAccountResult). */
  eventType?: "AwsApiCall" | "AwsServiceEvent";
  serviceEventDetails?: Record<string, unknown>;
}

/** Global services (IAM, Organizations) record in us-east-1; Identity Center and Identity Store in the instance's Region. */
const GLOBAL_SOURCES = new Set(["iam.amazonaws.com", "organizations.amazonaws.com"]);
const IDENTITY_CENTER_SOURCES = new Set([
  "sso.amazonaws.com",
  "identitystore.amazonaws.com",
  "identitystore-scim.amazonaws.com",
  "sso-directory.amazonaws.com",
]);
export const CLOUDTRAIL_TIME = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

interface AccountTrail {
  /** Write (readOnly false) events, oldest first: never dropped (they are few). */
  writes: TrailEvent[];
  /** Read-only events, oldest first from `readHead` on (a full sync makes thousands: the log keeps the newest). */
  reads: TrailEvent[];
  readHead: number;
}
/** Drops the first `n` slots of a queue read from `head`, once they are at least half of it (amortized O(1)). */
function compact<T>(q: T[], head: number): number {
  if (head < 1024 || head * 2 < q.length) return head;
  q.splice(0, head);
  return 0;
}

/** Per-account CloudTrail event history (management events). */
export class CloudTrailLog {
  private readonly byAccount = new Map<string, AccountTrail>();
  private delay: TrailDelay = { kind: "fixed", ms: 0 };
  private seed = 1;
  private sample: () => number = trailDelaySampler(this.delay, this.seed);
  private seq = 0;
  /** Record read-only calls (List/Get/Describe…) as AWS does; a large benchmark org may turn this off. */
  recordReads = true;
  /** Read-only events kept (all accounts together); the oldest are dropped beyond it (write events never are). */
  maxReadEvents = 20_000;
  /** Accounts of the kept read events in append order: the front names the account holding the oldest one. */
  private readOrder: AccountTrail[] = [];
  private readOrderHead = 0;
  /** The Identity Center instance's Region (sso / identitystore events are recorded there). */
  identityCenterRegion = "us-east-1";
  /** Region of events whose service is neither global nor Identity Center (STS, CloudTrail itself). */
  defaultRegion = "us-east-1";

  setDelay(d: TrailDelay, seed = this.seed): void {
    this.delay = d;
    this.seed = seed;
    this.sample = trailDelaySampler(d, seed);
  }
  delayConfig(): { delay: TrailDelay; seed: number } {
    return { delay: structuredClone(this.delay), seed: this.seed };
  }
  lastSeq(): number {
    return this.seq;
  }
  regionOf(eventSource: string): string {
    if (GLOBAL_SOURCES.has(eventSource)) return "us-east-1";
    if (IDENTITY_CENTER_SOURCES.has(eventSource)) return this.identityCenterRegion;
    return this.defaultRegion;
  }

  append(actor: Actor, e: TrailInput, now = Date.now()): TrailEvent | undefined {
    const readOnly = e.readOnly ?? false;
    if (readOnly && !this.recordReads) return undefined;
    const eventId = randomUUID();
    const region = e.region ?? this.regionOf(e.eventSource);
    const record: Record<string, unknown> = {
      eventVersion: "1.10",
      userIdentity: e.userIdentity ?? actor.userIdentity(),
      eventTime: CLOUDTRAIL_TIME(now),
      eventSource: e.eventSource,
      eventName: e.eventName,
      awsRegion: region,
      sourceIPAddress: "127.0.0.1",
      userAgent: actor.userAgent ?? "aws-sim",
      ...(e.error ? { errorCode: e.error.code, errorMessage: e.error.message.slice(0, 1024) } : {}),
      requestParameters: e.requestParameters,
      responseElements: e.error ? null : (e.responseElements ?? null),
      requestID: randomUUID(),
      eventID: eventId,
      readOnly,
      eventType: e.eventType ?? "AwsApiCall",
      ...(e.serviceEventDetails ? { serviceEventDetails: e.serviceEventDetails } : {}),
      managementEvent: true,
      recipientAccountId: e.accountId,
      eventCategory: "Management",
    };
    const ev: TrailEvent = {
      seq: ++this.seq,
      eventId,
      eventName: e.eventName,
      eventSource: e.eventSource,
      eventTime: now,
      visibleAt: now + Math.max(0, this.sample()),
      accessKeyId: actor.accessKeyId ?? "",
      username: actor.trailUsername(),
      resources: e.resources ?? [],
      readOnly,
      region,
      ...(e.error ? { errorCode: e.error.code } : {}),
      record,
    };
    let t = this.byAccount.get(e.accountId);
    if (!t) this.byAccount.set(e.accountId, (t = { writes: [], reads: [], readHead: 0 }));
    if (readOnly) {
      t.reads.push(ev);
      this.readOrder.push(t);
      while (this.readOrder.length - this.readOrderHead > this.maxReadEvents) {
        const oldest = this.readOrder[this.readOrderHead++]!;
        oldest.readHead = compact(oldest.reads, oldest.readHead + 1);
      }
      this.readOrderHead = compact(this.readOrder, this.readOrderHead);
    } else t.writes.push(ev);
    return ev;
  }

  /** Every recorded event of one account (visible or not), oldest first: for tests through the admin API. */
  all(accountId: string): TrailEvent[] {
    const t = this.byAccount.get(accountId);
    if (!t) return [];
    return [...t.writes, ...t.reads.slice(t.readHead)].sort((a, b) => a.seq - b.seq);
  }

  /** Visible events of one account in one Region, newest (by event time) first. */
  *visible(accountId: string, now = Date.now(), region?: string): Generator<TrailEvent> {
    const t = this.byAccount.get(accountId);
    if (!t) return;
    const { writes, reads, readHead } = t;
    let i = writes.length - 1;
    let j = reads.length - 1;
    while (i >= 0 || j >= readHead) {
      const w = writes[i];
      const r = reads[j];
      let ev: TrailEvent;
      if (w && (j < readHead || !r || w.eventTime >= r.eventTime)) {
        ev = w;
        i--;
      } else {
        ev = r!;
        j--;
      }
      if (ev.visibleAt <= now && (region === undefined || ev.region === region)) yield ev;
    }
  }
}
