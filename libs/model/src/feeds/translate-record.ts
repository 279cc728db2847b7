import type { ChangeRecord, RecordOutcome, RefreshIntent } from "@grantline/contracts";

/** What the translation table makes of one record. */
export interface Translation {
  outcome: RecordOutcome;
  intents: RefreshIntent[];
  /** Why a record was ignored or not understood (logged with its event id). */
  reason?: string;
}

/**
 * PLACEHOLDER (being replaced by the translation table): the event → targeted refresh table (docs/freshness.md).
 */
export function translateRecord(record: ChangeRecord): Translation {
  if (record.errorCode !== null) return { outcome: "failed-call", intents: [] };
  if (record.readOnly) return { outcome: "read-only", intents: [] };
  return { outcome: "unknown", intents: [], reason: `no translation for ${record.eventName}` };
}
