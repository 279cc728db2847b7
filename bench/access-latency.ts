// How fast `grantline access` answers right after the first sync of the benchmark organization: the moment the
// planner's statistics are most likely stale (nothing has been ANALYZEd yet), so the worst honest moment.
// Each question is asked of random targets, one after the other on one connection, the way the CLI asks it
// (of and explain first resolve the principal by id or name, as the CLI does); p95 is the figure with a target.
import { sql } from "kysely";
import {
  accessOfPrincipal,
  accessToAccount,
  AccessQueryTimeout,
  DEFAULT_ACCESS_TIMEOUT_MS,
  explainAccess,
  matchPrincipals,
  roleAssumers,
  type Db,
} from "@grantline/db";

/** p95 target for every question on the large organization (docs/benchmarks.md). */
export const ACCESS_P95_TARGET_MS = 1000;

export interface AccessLatency {
  question: "who" | "of" | "can-assume" | "explain";
  samples: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** Answers cut by the statement timeout (counted at the timeout). */
  timeouts: number;
  /** Mean rows per answer: a question answered with nothing is not a measurement of much. */
  meanRows: number;
}

interface Targets {
  accounts: string[];
  principals: string[];
  roles: string[];
  pairs: Array<[string, string]>;
}

/** `n` picks from `xs`, repeating when it is shorter (the small organization has 10 accounts). */
function fill<T>(xs: T[], n: number): T[] {
  return xs.length === 0 ? [] : Array.from({ length: n }, (_, i) => xs[i % xs.length] as T);
}

/**
 * Random targets, seeded so two runs over the same organization ask the same questions. explain pairs are
 * half a principal with a grant on the target (a path exists) and half a random user and account.
 */
async function pickTargets(db: Db, n: number): Promise<Targets> {
  return db.transaction().execute(async (tx) => {
    await sql`SELECT setseed(0.42)`.execute(tx);
    const ids = async (q: ReturnType<typeof sql<{ id: string }>>) =>
      (await q.execute(tx)).rows.map((r) => r.id);
    const accounts = await ids(sql`SELECT id FROM resources WHERE type = 'account' AND deleted_at IS NULL
                                     ORDER BY random() LIMIT ${n}`);
    const principals = await ids(sql`SELECT id FROM resources
                                      WHERE type IN ('sso_user', 'sso_group', 'iam_user', 'iam_role') AND deleted_at IS NULL
                                      ORDER BY random() LIMIT ${n}`);
    const roles = await ids(sql`SELECT id FROM resources WHERE type = 'iam_role' AND deleted_at IS NULL
                                 ORDER BY random() LIMIT ${n}`);
    const reached = await sql<{ principal: string; target: string }>`
      SELECT g.principal_id AS principal, e.resource_id AS target
        FROM grants g JOIN entitlements e ON e.source_id = g.source_id AND e.id = g.entitlement_id
       WHERE g.revoked_at IS NULL AND e.deleted_at IS NULL
         AND (e.resource_type = 'account' OR (e.resource_type = 'iam_role' AND e.slug = 'assignment'))
       ORDER BY random() LIMIT ${Math.ceil(n / 2)}`.execute(tx);
    const users =
      await ids(sql`SELECT id FROM resources WHERE type IN ('sso_user', 'iam_user') AND deleted_at IS NULL
                                 ORDER BY random() LIMIT ${Math.floor(n / 2)}`);
    const pairs: Array<[string, string]> = [
      ...reached.rows.map((r): [string, string] => [r.principal, r.target]),
      ...users.flatMap((u, i): Array<[string, string]> => {
        const a = accounts[i % accounts.length];
        return a ? [[u, a]] : [];
      }),
    ];
    return {
      accounts: fill(accounts, n),
      principals: fill(principals, n),
      roles: fill(roles, n),
      pairs: fill(pairs, n),
    };
  });
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;

async function measure<T>(
  question: AccessLatency["question"],
  targets: T[],
  ask: (t: T) => Promise<number>,
): Promise<AccessLatency> {
  const ms: number[] = [];
  let timeouts = 0;
  let rows = 0;
  for (const t of targets) {
    const start = performance.now();
    try {
      rows += await ask(t);
      ms.push(performance.now() - start);
    } catch (err) {
      if (!(err instanceof AccessQueryTimeout)) throw err;
      timeouts++;
      ms.push(err.timeoutMs);
    }
  }
  const sorted = ms.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    question,
    samples: sorted.length,
    p50Ms: round(percentile(sorted, 50)),
    p95Ms: round(percentile(sorted, 95)),
    maxMs: round(sorted.at(-1) ?? 0),
    timeouts,
    meanRows: round(rows / Math.max(1, sorted.length)),
  };
}

/** The four questions over `n` random targets each (default 100), under the CLI's default timeout. */
export async function measureAccessLatency(db: Db, n = 100): Promise<AccessLatency[]> {
  const t = await pickTargets(db, n);
  const o = { timeoutMs: DEFAULT_ACCESS_TIMEOUT_MS };
  const resolve = async (p: string) => [
    ...new Set([p, ...(await matchPrincipals(db, p, o)).map((m) => m.principal_id)]),
  ];
  return [
    await measure("who", t.accounts, async (a) => (await accessToAccount(db, a, o)).rows.length),
    await measure(
      "of",
      t.principals,
      async (p) => (await accessOfPrincipal(db, await resolve(p), o)).rows.length,
    ),
    await measure("can-assume", t.roles, async (r) => (await roleAssumers(db, r, o)).rows.length),
    await measure(
      "explain",
      t.pairs,
      async ([p, target]) => (await explainAccess(db, await resolve(p), target, o)).rows.length,
    ),
  ];
}
