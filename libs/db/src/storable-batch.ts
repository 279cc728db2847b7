import type { ResultBatch } from "@grantline/contracts";

/**
 * Postgres error codes a batch's DATA can cause — the same bytes fail the same way on every retry:
 * 22P05 `\u0000` in jsonb, 22021 a NUL byte in text, 22P02 a lone UTF-16 surrogate in jsonb, 54000 an index key
 * too long for a btree (an id over ~2.7 KB).
 */
const DATA_ERROR_CODES = new Set(["22P05", "22021", "22P02", "54000"]);

/** True for an error the batch's data caused (not the database being away): cleaning, not retrying, helps. */
export function isUnstorableDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && DATA_ERROR_CODES.has(code);
}

/** Ids longer than this are skipped: far over any real AWS id, well under btree's ~2.7 KB key limit. */
const MAX_ID_BYTES = 2048;
// NUL, and lone surrogates (a high not followed by a low, or a low not preceded by a high).
// eslint-disable-next-line no-control-regex -- NUL is exactly what Postgres cannot store
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, "g");

function clean(v: unknown, hit: { n: number }): unknown {
  if (typeof v === "string") {
    if (!UNSTORABLE.test(v)) return v;
    hit.n++;
    return v.replace(UNSTORABLE_ALL, "\uFFFD");
  }
  if (Array.isArray(v)) return v.map((x) => clean(x, hit));
  if (v !== null && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [clean(k, hit) as string, clean(x, hit)]));
  return v;
}

const tooLong = (...ids: Array<string | null>) =>
  ids.some((id) => id !== null && Buffer.byteLength(id) > MAX_ID_BYTES);

/**
 * What Postgres can store of a batch: NUL characters and lone surrogates become U+FFFD (deterministically, so
 * every run and every row referring to a cleaned id agree), rows whose id is too long to index are left out;
 * each such row is named in a warning on the run, and the rest of the page is kept. Used only after Postgres
 * refused the batch as it was, so the common path pays nothing.
 */
export function storableBatch(b: ResultBatch): ResultBatch {
  const warnings: string[] = [];
  const note = (what: string, id: string, n: number, skipped: boolean) => {
    if (skipped) warnings.push(`${what} ${id.slice(0, 120)}…: id over ${MAX_ID_BYTES} bytes, row skipped`);
    else if (n > 0)
      warnings.push(
        `${what} ${id.slice(0, 200)}: NUL or invalid UTF-16 replaced by U+FFFD (Postgres cannot store it)`,
      );
  };
  const resources = b.resources.flatMap((r) => {
    const hit = { n: 0 };
    const c = clean(r, hit) as typeof r;
    const skip = tooLong(c.id, c.parentId);
    note(`resource ${r.type}`, c.id, hit.n, skip);
    return skip ? [] : [c];
  });
  const entitlements = b.entitlements.flatMap((e) => {
    const hit = { n: 0 };
    const c = clean(e, hit) as typeof e;
    const skip = tooLong(c.id, c.resourceId);
    note("entitlement", c.id, hit.n, skip);
    return skip ? [] : [c];
  });
  const grants = b.grants.flatMap((g) => {
    const hit = { n: 0 };
    const c = clean(g, hit) as typeof g;
    const skip = tooLong(c.id, c.entitlementId, c.principalId);
    note("grant", c.id, hit.n, skip);
    return skip ? [] : [c];
  });
  const hit = { n: 0 };
  const children = clean(b.children, hit) as typeof b.children;
  if (hit.n > 0) warnings.push(`${hit.n} value(s) of child requests had NUL or invalid UTF-16 replaced`);
  return {
    ...b,
    resources,
    entitlements,
    grants,
    children,
    warnings: [...(clean(b.warnings, { n: 0 }) as string[]), ...warnings.slice(0, 100)],
  };
}
