// The rate-limit floor: the shortest wall time AWS's quotas allow for the calls a run made. "wall ÷ floor" is the
// benchmark's headline figure (docs/benchmarks.md).
import { LIST_DETAILS } from "@grantline/aws";
import { DEFAULT_RATE_LIMITS } from "@grantline/aws-sim";
import type { TaskTime } from "./run-pipeline.ts";
import type { Counters, Timeline } from "./sim-process.ts";

/** Calls per second per quota scope, the sim's quotas × `--quota-scale` (grantline's budgets are set to these). */
export interface Rates {
  sso: number;
  identitystore: number;
  organizations: number;
  iam: number;
  sts: number;
  cloudtrail: number;
}

export function quotaRates(scale: number): Rates {
  return {
    sso: DEFAULT_RATE_LIMITS.ssoAdmin * scale,
    identitystore: DEFAULT_RATE_LIMITS.identityStore * scale,
    organizations: DEFAULT_RATE_LIMITS.organizations * scale,
    iam: DEFAULT_RATE_LIMITS.iam * scale,
    sts: DEFAULT_RATE_LIMITS.sts * scale,
    cloudtrail: DEFAULT_RATE_LIMITS.cloudtrail * scale,
  };
}

export interface ScopeFloor {
  scope: string;
  calls: number;
  rate: number;
  seconds: number;
}

/**
 * floor = max over quota scopes s of (successful calls in s) / (rate of s): SSO Admin — every operation of the
 * instance shares one bucket; Identity Store and Organizations — one bucket per operation. The sim's buckets start
 * full (burst = one second of rate), which a caller could spend at once; grantline's budgets space calls evenly
 * (burst 1), so the floor is stated without that head start.
 *
 * IAM quotas are per account (and operation): the IAM part of the floor is its busiest account, not the sum. The
 * counters are summed over accounts, so per-account successful calls come from `iamByAccount` (the timeline's
 * `iam:<account>:<operation>` scopes, or the run's tasks); without it the sum is used (an upper bound).
 */
export function floorOf(
  c: Counters,
  rates: Rates,
  iamByAccount?: Map<string, number>,
): { floor: ScopeFloor; scopes: ScopeFloor[] } {
  const byScope = new Map<string, ScopeFloor>();
  const add = (scope: string, rate: number, ok: number): void => {
    const s = byScope.get(scope) ?? { scope, calls: 0, rate, seconds: 0 };
    s.calls += ok;
    s.seconds = s.calls / s.rate;
    byScope.set(scope, s);
  };
  for (const [op, v] of Object.entries(c.operations)) {
    const [service, name] = op.split(":") as [string, string];
    const ok = v.calls - v.throttled - v.errors;
    if (service === "sso") add("sso-admin (all operations)", rates.sso, ok);
    else if (service === "identitystore") add(`identitystore:${name}`, rates.identitystore, ok);
    else if (service === "organizations") add(`organizations:${name}`, rates.organizations, ok);
    else if (service === "iam" && iamByAccount) continue;
    else if (service === "iam") add(`iam:${name} (per account; summed)`, rates.iam, ok);
    else if (service === "sts") add("sts", rates.sts, ok);
    else add(op, rates.cloudtrail, ok);
  }
  if (iamByAccount) {
    const busiest = new Map<string, { account: string; ok: number }>();
    for (const [key, ok] of iamByAccount) {
      const [account, name] = key.split(":") as [string, string];
      const b = busiest.get(name);
      if (!b || ok > b.ok) busiest.set(name, { account, ok });
    }
    for (const [name, b] of busiest) add(`iam:${name} (busiest account, ${b.account})`, rates.iam, b.ok);
  }
  const scopes = [...byScope.values()].sort((a, b) => b.seconds - a.seconds);
  return { floor: scopes[0] ?? { scope: "-", calls: 0, rate: 1, seconds: 0 }, scopes };
}

/** Successful IAM calls per `<account>:<operation>` from aws-sim's timeline. */
export function iamCallsByAccount(t: Timeline): Map<string, number> {
  const out = new Map<string, number>();
  for (const [scope, points] of Object.entries(t)) {
    const m = /^iam:(\d{12}):(\w+)$/.exec(scope);
    if (!m) continue;
    out.set(
      `${m[1]}:${m[2]}`,
      points.reduce((n, pt) => n + pt.calls - pt.throttled, 0),
    );
  }
  return out;
}

/** List pages that also read each item's detail: the detail's operation, by the list's. */
const DETAIL_OF: Record<string, string> = Object.fromEntries(
  Object.values(LIST_DETAILS).map((d) => [d.list, d.detail]),
);

/**
 * The floor had every task of the run been fetched exactly once (re-published tasks fetch again and inflate the
 * counted floor): the run's distinct tasks per quota scope — the composite DescribePermissionSet is 4 SSO calls
 * (its policy lists fit one page in aws-sim's presets). A list page that also reads each item's detail counts its
 * list call and, on the detail's own scope, the other calls of the fetch that settled it (its successful calls).
 */
export function idealFloor(tasks: TaskTime[], managementAccount: string, rates: Rates): ScopeFloor {
  const ops: Counters["operations"] = {};
  const iam = new Map<string, number>();
  const count = (service: string, operation: string, account: string | null, n: number) => {
    if (n <= 0) return;
    if (service === "iam") {
      const key = `${account ?? managementAccount}:${operation}`;
      iam.set(key, (iam.get(key) ?? 0) + n);
      return;
    }
    const o = (ops[`${service === "sso-admin" ? "sso" : service}:${operation}`] ??= {
      calls: 0,
      throttled: 0,
      errors: 0,
    });
    o.calls += n;
  };
  for (const [service, operation, , , , account, calls] of tasks) {
    const detail = DETAIL_OF[operation];
    if (service === "sso-admin" && operation === "DescribePermissionSet")
      count(service, operation, account, 4);
    else count(service, operation, account, 1);
    if (detail) count(service, detail, account, calls - 1);
  }
  return floorOf({ operations: ops, totals: { calls: 0, throttled: 0, errors: 0 } }, rates, iam).floor;
}
