// The subscriber's side of the freshness benchmark: every change event on the events subject, matched to the
// mutation that must produce it, with the time it arrived.
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { GrantlineEvent } from "@grantline/contracts";

/** `<type> <key>`: `grant.created <grantId>` or `resource.updated <type>/<id>`; null for run events. */
export function eventKey(e: { type: string; data: Record<string, unknown> }): string | null {
  const what = e.type.replace(/^dev\.grantline\./, "");
  if (what.startsWith("run.")) return null;
  const d = e.data;
  return what.startsWith("grant.")
    ? `${what} ${String(d.grantId)}`
    : `${what} ${String(d.resourceType)}/${String(d.resourceId)}`;
}

export interface Arrival {
  /** Epoch ms the subscriber received it. */
  at: number;
  runId: string;
}

/**
 * Expected keys, registered as each mutation is sent, and the first arrival of each after its mutation. An event
 * with a key no pending mutation expects (a side effect, a duplicate) is only counted, unless it comes from one of
 * `ignoreRuns` (the first full sync, whose events may still be on their way out of the outbox).
 */
export function createMatcher(o: { ignoreRuns?: string[] } = {}) {
  const expected = new Map<string, { sentAt: number; arrival: Arrival | null }>();
  const ignored = new Set(o.ignoreRuns);
  let others = 0;
  return {
    expect(key: string, sentAt: number): void {
      if (expected.has(key)) throw new Error(`two mutations expect ${key}`);
      expected.set(key, { sentAt, arrival: null });
    },
    observe(key: string, arrival: Arrival): void {
      const e = expected.get(key);
      if (e && !e.arrival && arrival.at >= e.sentAt) e.arrival = arrival;
      else if (!ignored.has(arrival.runId)) others++;
    },
    arrival: (key: string): Arrival | null => expected.get(key)?.arrival ?? null,
    pending: (): number => [...expected.values()].filter((e) => !e.arrival).length,
    /** Change events that matched no pending expectation (duplicates included). */
    others: (): number => others,
  };
}
export type Matcher = ReturnType<typeof createMatcher>;

/** Feeds every change event of `subject` (core NATS subscription) to the matcher, stamped on receipt. */
export function watchEvents(nc: NatsConnection, subject: string, matcher: Matcher): Subscription {
  const sub = nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err) return;
      const at = Date.now();
      const parsed = GrantlineEvent.safeParse(msg.json());
      if (!parsed.success) return;
      const key = eventKey(parsed.data);
      if (key) matcher.observe(key, { at, runId: parsed.data.grantlinerunid });
    },
  });
  return sub;
}
