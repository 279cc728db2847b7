import { createHash } from "node:crypto";

/**
 * `sha256:` and the first 16 hex digits of the value's SHA-256: enough to tell whether a trust policy's external
 * id is the one you hold (hash yours and compare), not enough to present it to STS.
 */
export function fingerprint(value: string): string {
  return `sha256:${createHash("sha256").update(value, "utf8").digest("hex").slice(0, 16)}`;
}

const EXTERNAL_ID = "sts:externalid";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** An external id found in a trust policy: the value, and the fingerprint that stands for it everywhere else. */
interface ExternalIdValue {
  fingerprint: string;
  value: string;
}

/** A trust policy with its external ids masked, and the values that were masked (each once). */
interface MaskedTrustPolicy {
  document: string | null;
  externalIds: ExternalIdValue[];
}

/**
 * A trust policy document with the value of every `sts:ExternalId` condition (any operator, any case of the key)
 * replaced by its fingerprint, and the values themselves. An external id is a shared secret between a role's
 * owner and whoever may assume it: grantline stores the values apart (the writer's `trust_external_ids`, which
 * the read-only role cannot read), while the policy, the conditions it grants under, the rows the read-only role
 * sees and the events carry only fingerprints. The document is returned unchanged when it names no external id
 * or is not JSON.
 */
export function fingerprintExternalIds(document: string | null): MaskedTrustPolicy {
  const found = new Map<string, string>();
  if (document === null) return { document, externalIds: [] };
  let doc: Json;
  try {
    doc = JSON.parse(document) as Json;
  } catch {
    return { document, externalIds: [] };
  }
  let changed = false;
  const mask = (v: Json): Json => {
    if (typeof v === "string") {
      const f = fingerprint(v);
      found.set(f, v);
      return f;
    }
    if (Array.isArray(v)) return v.map(mask);
    return v;
  };
  const obj = (v: Json): v is { [k: string]: Json } =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  const statements: Json = obj(doc) ? (doc.Statement ?? null) : null;
  const list: Json[] = Array.isArray(statements) ? statements : obj(statements) ? [statements] : [];
  for (const s of list) {
    const condition = obj(s) ? s.Condition : undefined;
    if (condition === undefined || !obj(condition)) continue;
    for (const keys of Object.values(condition)) {
      if (!obj(keys)) continue;
      for (const key of Object.keys(keys))
        if (key.toLowerCase() === EXTERNAL_ID) {
          keys[key] = mask(keys[key] ?? null);
          changed = true;
        }
    }
  }
  return {
    document: changed ? JSON.stringify(doc) : document,
    externalIds: [...found].map(([f, value]) => ({ fingerprint: f, value })),
  };
}
