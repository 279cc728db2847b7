import { createHash } from "node:crypto";

/** Stable JSON: object keys sorted at every depth, so equal values always hash alike. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
    }
    return v;
  });
}

/**
 * A deterministic id: the first 32 hex characters of sha256 over the canonical JSON of the parts. Used for task
 * ids, message ids and event ids so a retried publish or a redelivered batch produces the same id and dedupes.
 */
export function deterministicId(...parts: unknown[]): string {
  return createHash("sha256").update(canonicalJson(parts)).digest("hex").slice(0, 32);
}
