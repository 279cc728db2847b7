import { z } from "zod";

export const EVENT_TYPES = [
  "grant.created",
  "grant.revoked",
  "resource.created",
  "resource.updated",
  "resource.deleted",
  "run.started",
  "run.completed",
  "run.failed",
  "run.cancelled",
  "provisioning.requested",
  "provisioning.executing",
  "provisioning.confirmed",
  "provisioning.failed",
  "provisioning.refused",
  "provisioning.expired",
] as const;
export const EventType = z.enum(EVENT_TYPES);
export type EventType = z.infer<typeof EventType>;

/**
 * Digits of the zero-padded `sequence` attribute: the CloudEvents sequence extension asks for a
 * lexicographically orderable string, and a fixed width makes string order numeric order.
 */
export const SEQUENCE_DIGITS = 20;

/** What a run does: `full` reads everything and sweeps the source; `refresh` re-reads only queued targets. */
export const RunKind = z.enum(["full", "refresh"]);
export type RunKind = z.infer<typeof RunKind>;

/** `data` of `run.started`. */
export const RunStartedData = z.object({ runId: z.uuid(), kind: RunKind, initialLoad: z.boolean() });
export type RunStartedData = z.infer<typeof RunStartedData>;

/**
 * CloudEvents 1.0 JSON envelope for everything on `<prefix>.events.<source>.<type>`. `id` is deterministic
 * (run + change), so a republished event dedupes in JetStream and a consumer can dedupe on it too.
 * Extension attributes are lower-case alphanumerics, as the spec requires.
 */
export const GrantlineEvent = z.object({
  specversion: z.literal("1.0"),
  id: z.string().min(1),
  /** `grantline/<sourceId>` */
  source: z.string().min(1),
  /** `dev.grantline.<type>`, e.g. `dev.grantline.grant.created`. */
  type: z.string().regex(/^dev\.grantline\./),
  time: z.iso.datetime(),
  /** The changed thing's id (grant id, resource type/id, run id). */
  subject: z.string().optional(),
  datacontenttype: z.literal("application/json"),
  /** Run that observed the change. */
  grantlinerunid: z.string(),
  /** True for every event of a source's first run: a consumer can tell an initial load from real changes. */
  grantlineinitialload: z.boolean(),
  /**
   * The per-key version (CloudEvents sequence extension): a zero-padded decimal, increasing per `subject` in
   * the order the changes were committed, across runs of every kind. Of two events for the same subject, the
   * greater `sequence` is the newer state; compare as strings or numbers. Not contiguous. Every event grantline
   * publishes carries it; optional only so that events published before it existed (still in the stream's
   * retention) parse.
   */
  sequence: z
    .string()
    .regex(new RegExp(`^\\d{${SEQUENCE_DIGITS}}$`))
    .optional(),
  data: z.record(z.string(), z.unknown()),
});
export type GrantlineEvent = z.infer<typeof GrantlineEvent>;

/** CloudEvents `type` for a grantline event type. */
export function cloudEventType(t: EventType): string {
  return `dev.grantline.${t}`;
}
