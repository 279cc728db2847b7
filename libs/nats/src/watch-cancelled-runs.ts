import type { NatsConnection } from "@nats-io/nats-core";
import { GrantlineEvent, type Subjects } from "@grantline/contracts";

/** Runs cancelled while this process runs, learned from `run.cancelled` events. */
export interface CancelledRuns {
  isCancelled(runId: string): boolean;
  /** Calls `onCancel` once if `runId` is cancelled from now on; returns the function that stops watching. */
  watch(runId: string, onCancel: () => void): () => void;
}

// Enough for every run cancelled in a long while; a run forgotten after that has no requests left anyway.
const REMEMBERED = 10_000;

/**
 * Listens (core NATS, no consumer) for `run.cancelled` events, so work already handed to this process — in
 * flight or buffered by a consumer, which a stream purge cannot reach — can stop instead of calling AWS for a
 * run nobody waits for. Best effort by design: what it misses, the writer ignores.
 */
export function watchCancelledRuns(o: { nc: NatsConnection; subjects: Subjects }): CancelledRuns {
  const cancelled = new Set<string>();
  const watchers = new Map<string, Set<() => void>>();
  o.nc.subscribe(o.subjects.eventsOfType("run.cancelled"), {
    callback: (_err, msg) => {
      let runId: string;
      try {
        const e = GrantlineEvent.safeParse(msg.json());
        if (!e.success) return;
        runId = e.data.grantlinerunid;
      } catch {
        return; // not JSON: not an event of ours
      }
      cancelled.add(runId);
      if (cancelled.size > REMEMBERED) cancelled.delete(cancelled.values().next().value as string);
      for (const fn of watchers.get(runId) ?? []) fn();
      watchers.delete(runId);
    },
  });
  return {
    isCancelled: (runId) => cancelled.has(runId),
    watch(runId, onCancel) {
      const set = watchers.get(runId) ?? new Set();
      watchers.set(runId, set);
      set.add(onCancel);
      return () => {
        set.delete(onCancel);
        if (set.size === 0 && watchers.get(runId) === set) watchers.delete(runId);
      };
    },
  };
}
