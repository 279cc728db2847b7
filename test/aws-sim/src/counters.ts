export interface OperationCounters {
  calls: number;
  throttled: number;
  errors: number;
}
export interface SimCounters {
  /** Keyed `service:Operation`, e.g. `iam:ListUsers`, `sso:ListAccountAssignments`. */
  operations: Record<string, OperationCounters>;
  totals: OperationCounters;
}
export interface TimelinePoint {
  t: number;
  calls: number;
  throttled: number;
}
/** Per-second calls per quota scope (`t` = epoch second). */
export type SimTimeline = Record<string, TimelinePoint[]>;

const KEEP_SECONDS = 3600;

export class Counters {
  private ops = new Map<string, OperationCounters>();
  private timeline = new Map<string, Map<number, TimelinePoint>>();

  record(op: string, scope: string | undefined, outcome: "ok" | "throttled" | "error"): void {
    let c = this.ops.get(op);
    if (!c) this.ops.set(op, (c = { calls: 0, throttled: 0, errors: 0 }));
    c.calls++;
    if (outcome === "throttled") c.throttled++;
    if (outcome === "error") c.errors++;
    if (!scope) return;
    const t = Math.floor(Date.now() / 1000);
    let m = this.timeline.get(scope);
    if (!m) this.timeline.set(scope, (m = new Map()));
    let p = m.get(t);
    if (!p) {
      m.set(t, (p = { t, calls: 0, throttled: 0 }));
      for (const k of m.keys()) {
        if (k < t - KEEP_SECONDS) m.delete(k);
        else break;
      }
    }
    p.calls++;
    if (outcome === "throttled") p.throttled++;
  }
  snapshot(): SimCounters {
    const operations: Record<string, OperationCounters> = {};
    const totals = { calls: 0, throttled: 0, errors: 0 };
    for (const [k, v] of this.ops) {
      operations[k] = { ...v };
      totals.calls += v.calls;
      totals.throttled += v.throttled;
      totals.errors += v.errors;
    }
    return { operations, totals };
  }
  timelineSnapshot(): SimTimeline {
    const out: SimTimeline = {};
    for (const [k, m] of this.timeline) out[k] = [...m.values()].map((p) => ({ ...p }));
    return out;
  }
  reset(): void {
    this.ops.clear();
    this.timeline.clear();
  }
}
