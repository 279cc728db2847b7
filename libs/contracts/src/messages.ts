import { z } from "zod";
import { isOperation, operationKey } from "./operation.ts";
import { FeedPage, ObjectSweep } from "./feeds.ts";
import { DeadLetterStage, EntitlementSlug, PrincipalType, ResourceType } from "./vocabulary.ts";

/** A source id: one configured AWS organization. It is a subject token, so it is restricted accordingly. */
export const SourceId = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,62}$/,
    "lower-case letters, digits, '-' and '_' (max 63), starting with a letter or digit",
  );
export type SourceId = z.infer<typeof SourceId>;

/** The AWS (or built-in) service a page request is addressed to; selects the fetcher's client and budget. */
export const ServiceName = z.enum([
  "organizations",
  "sso-admin",
  "identitystore",
  "iam",
  "sts",
  "cloudtrail",
  "diag",
]);
export type ServiceName = z.infer<typeof ServiceName>;

/**
 * One unit of work: call `operation` once for one page. It is also a row of the `tasks` table (the cursor),
 * so everything needed to redo it lives here. `service.operation` must be in the catalog (`Operation`).
 */
export const PageRequest = z
  .object({
    v: z.literal(1),
    /** Deterministic: hash of run, operation, params and page token (see `taskIdFor`). */
    taskId: z.string().min(1),
    runId: z.uuid(),
    sourceId: SourceId,
    service: ServiceName,
    operation: z.string().min(1),
    params: z.record(z.string(), z.unknown()),
    pageToken: z.string().nullable(),
    /** Account whose credentials make the call (cross-account IAM); null = the source's own credentials. */
    accountId: z.string().nullable(),
    /** The mark-and-sweep scope this page belongs to, if it enumerates one. */
    scope: z.string().nullable(),
    /** 0 for the first page of a chain. */
    pageIndex: z.number().int().nonnegative(),
  })
  // A request nobody can map is refused where it enters, not after the fetcher has spent AWS calls on it.
  .superRefine((r, ctx) => {
    if (!isOperation(operationKey(r.service, r.operation)))
      ctx.addIssue({
        code: "custom",
        path: ["operation"],
        message: `${operationKey(r.service, r.operation)} is not in the operation catalog`,
      });
  });
export type PageRequest = z.infer<typeof PageRequest>;

/** The raw page the fetcher got for a request: AWS's output, minus `$metadata`. */
export const PageResult = z.object({
  v: z.literal(1),
  request: PageRequest,
  page: z.record(z.string(), z.unknown()),
  fetchedAt: z.iso.datetime(),
  /** Non-fatal problems met while fetching (an optional part denied…); they end up on the run. */
  warnings: z.array(z.string()).default([]),
  /**
   * Set when the call was denied (AccessDenied, a role that cannot be assumed): `page` is empty and the scope
   * is skipped — its rows are kept as they were, not swept — with the reason as a warning on the run.
   */
  skipped: z.string().nullable().default(null),
  /** AWS calls the page took (composite operations and retries make more than one) and how many were throttled. */
  stats: z
    .object({ awsCalls: z.number().int().nonnegative(), throttled: z.number().int().nonnegative() })
    .default({ awsCalls: 0, throttled: 0 }),
});
export type PageResult = z.infer<typeof PageResult>;

/** An `sts:ExternalId` value of a role's trust policy, with the fingerprint its attrs carry instead. */
const TrustExternalId = z.object({
  fingerprint: z.string().min(1),
  value: z.string(),
});

export const Resource = z.object({
  type: ResourceType,
  id: z.string().min(1),
  parentType: ResourceType.nullable(),
  parentId: z.string().nullable(),
  name: z.string(),
  attrs: z.record(z.string(), z.unknown()),
  /**
   * Overrides the batch's scope for this row; null = swept only by the source-wide sweep. For rows shared by
   * several scopes (an AWS-managed policy seen in every account), which no single scope may sweep.
   */
  scope: z.string().nullable().optional(),
  /**
   * A role's external ids: exactly the values its trust policy names now (attrs and events carry only their
   * fingerprints). The writer keeps them in `trust_external_ids`, which the read-only role cannot read; absent
   * on every other resource. Travels only mapper → writer (docs/deploying.md#external-ids).
   */
  trustExternalIds: z.array(TrustExternalId).optional(),
});
export type Resource = z.infer<typeof Resource>;

export const Entitlement = z.object({
  id: z.string().min(1),
  resourceType: ResourceType,
  resourceId: z.string().min(1),
  slug: EntitlementSlug,
  name: z.string(),
  attrs: z.record(z.string(), z.unknown()),
  /** Overrides the batch's scope for this row (see `Resource.scope`). */
  scope: z.string().nullable().optional(),
});
export type Entitlement = z.infer<typeof Entitlement>;

export const Grant = z.object({
  id: z.string().min(1),
  entitlementId: z.string().min(1),
  principalType: PrincipalType,
  principalId: z.string().min(1),
  /** True when the principal is a group (or role) whose members hold the grant through it. */
  expandable: z.boolean(),
  attrs: z.record(z.string(), z.unknown()),
  /** Overrides the batch's scope for this row (see `Resource.scope`, `ResultBatch.sweepScopes`). */
  scope: z.string().nullable().optional(),
});
export type Grant = z.infer<typeof Grant>;

/** What the mapper made of one page: rows to upsert and the pages it implies. Applied by the writer in one transaction. */
export const ResultBatch = z.object({
  v: z.literal(1),
  taskId: z.string().min(1),
  runId: z.uuid(),
  sourceId: SourceId,
  scope: z.string().nullable(),
  resources: z.array(Resource),
  entitlements: z.array(Entitlement),
  grants: z.array(Grant),
  children: z.array(PageRequest),
  /** True on the last page of a scope's chain: the writer sweeps the scope's unseen rows. */
  scopeComplete: z.boolean(),
  /** Scopes this run could not see (denied): their rows are stamped as seen so no sweep removes them. */
  keepScopes: z.array(z.string()).default([]),
  /**
   * Other scopes this page read whole (besides its own, which `scopeComplete` closes): swept like it, after the
   * upserts. A list page that read its items' details (one scope per item, the rows carrying it) closes them.
   */
  sweepScopes: z.array(z.string()).optional(),
  /** A targeted refresh of one object: its rows this run did not stamp are swept (see `ObjectSweep`). */
  objectSweeps: z.array(ObjectSweep).optional(),
  /** Set on a change feed's page: the writer advances the feed's window (and commits its cursor at the end). */
  feed: FeedPage.optional(),
  /** Several feeds' pages (a `cloudtrail.PollFeeds` batch): each applied as `feed` would be. */
  feeds: z.array(FeedPage).optional(),
  warnings: z.array(z.string()),
  /** Carried from the page result into the run's statistics. */
  stats: z
    .object({ awsCalls: z.number().int().nonnegative(), throttled: z.number().int().nonnegative() })
    .default({ awsCalls: 0, throttled: 0 }),
  /**
   * Set when the mapper split a large page's batch (bounded rows per batch): parts before the last carry rows
   * only; the last carries the rest (children, sweeps, stats) and settles the task once every part is applied.
   */
  part: z
    .object({ index: z.number().int().nonnegative(), count: z.number().int().min(2) })
    .refine((p) => p.index < p.count, "index must be below count")
    .optional(),
});
export type ResultBatch = z.infer<typeof ResultBatch>;

/** What lands on `<prefix>.dlq.<stage>` when a message cannot ever be processed. */
export const DeadLetter = z.object({
  v: z.literal(1),
  stage: DeadLetterStage,
  reason: z.string(),
  error: z.string(),
  subject: z.string(),
  streamSeq: z.number().int().nullable(),
  deliveryCount: z.number().int(),
  /** The original payload, base64, so any bytes survive. */
  payload: z.base64(),
  failedAt: z.iso.datetime(),
  /** When the payload named a task, its id — the writer marks that task failed. */
  taskId: z.string().nullable(),
  runId: z.string().nullable(),
  /**
   * Not a dead letter but a notice: the task's message keeps failing and is still being retried (a source whose
   * AWS endpoint is unreachable or answers 5xx). The writer adds `error` to the task's warnings, so the run shows
   * it at once, and leaves the task pending; the message itself is dead-lettered later if it never succeeds.
   */
  notice: z.literal(true).optional(),
});
export type DeadLetter = z.infer<typeof DeadLetter>;

export const SyncRequest = z.object({
  sourceId: SourceId,
  kind: z.enum(["full"]).default("full"),
});
export type SyncRequest = z.infer<typeof SyncRequest>;

export const SyncReply = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), runId: z.uuid(), alreadyRunning: z.boolean() }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);
export type SyncReply = z.infer<typeof SyncReply>;

export const RunStatus = z.enum(["running", "succeeded", "failed", "cancelled"]);
export type RunStatus = z.infer<typeof RunStatus>;

export const RunSummary = z.object({
  runId: z.uuid(),
  sourceId: SourceId,
  /** `full`, `refresh` (targeted refreshes) or `feed` (the change feeds' long-lived run); absent: full. */
  kind: z.enum(["full", "refresh", "feed"]).optional(),
  status: RunStatus,
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().nullable(),
  tasksDone: z.number().int(),
  tasksPending: z.number().int(),
  tasksFailed: z.number().int(),
  warnings: z.array(z.string()),
  stats: z.record(z.string(), z.number()),
});
export type RunSummary = z.infer<typeof RunSummary>;

export const StatusRequest = z.object({ sourceId: SourceId.optional(), runId: z.uuid().optional() });
export type StatusRequest = z.infer<typeof StatusRequest>;

/** One change feed's state (docs/freshness.md): its cursor, what it saw, how fresh its refreshes are. */
export const FeedStatus = z.object({
  sourceId: SourceId,
  feedId: z.string(),
  accountId: z.string(),
  region: z.string(),
  eventSource: z.string(),
  /** The committed cursor: the next window starts at since − overlap. */
  since: z.iso.datetime(),
  /** now − since: how far behind the feed's committed cursor is. */
  cursorAgeMs: z.number().int(),
  committedAt: z.iso.datetime().nullable(),
  windowOpen: z.boolean(),
  /** Consecutive windows that found nothing new (the poll interval backs off with it). */
  quietPolls: z.number().int(),
  eventsSeen: z.number().int(),
  eventsTranslated: z.number().int(),
  eventsIgnored: z.number().int(),
  eventsUnknown: z.number().int(),
  lastEventAt: z.iso.datetime().nullable(),
  /** Event time → refresh queued, for the oldest change of the last window that queued any. */
  queueLagMs: z.number().int().nullable(),
  /** Event time → refresh done (`refresh_queue.done_at`), for the feed's latest finished refresh. */
  refreshLagMs: z.number().int().nullable(),
});
export type FeedStatus = z.infer<typeof FeedStatus>;

export const StatusReply = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), runs: z.array(RunSummary), feeds: z.array(FeedStatus).optional() }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);
export type StatusReply = z.infer<typeof StatusReply>;

/**
 * `grantline refresh <type>:<id>`: a targeted refresh of one synced object (docs/sync-model.md "Targeted
 * refresh"). `target` is a resource type and id as grantline names them, e.g. `sso_user:<userId>`,
 * `permission_set:<arn>`, `iam_role:<arn>`, `account:<id>`.
 */
export const RefreshRequest = z.object({
  /** Absent: the only configured source (an error when there are several). */
  sourceId: SourceId.optional(),
  target: z.string().regex(/^[a-z_]+:.+$/, "<resourceType>:<id>"),
});
export type RefreshRequest = z.infer<typeof RefreshRequest>;

export const RefreshReply = z.discriminatedUnion("ok", [
  z.object({
    ok: z.literal(true),
    /** The refresh (or full) run that took the request; null while another run of the source is active. */
    runId: z.uuid().nullable(),
    /** Refreshes the request queued (identical ones already waiting are not queued twice). */
    queued: z.number().int(),
    /** The run that was active, when `runId` is null: the refresh starts when it ends. */
    waitingFor: z.uuid().nullable(),
  }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);
export type RefreshReply = z.infer<typeof RefreshReply>;

export const CancelRequest = z.object({ runId: z.uuid() });
export type CancelRequest = z.infer<typeof CancelRequest>;

export const CancelReply = z.discriminatedUnion("ok", [
  z.object({
    ok: z.literal(true),
    runId: z.uuid(),
    sourceId: SourceId,
    /** True when an earlier request had already cancelled the run: cancelling is idempotent. */
    alreadyCancelled: z.boolean(),
    /** Pending tasks this request settled as cancelled (0 when already cancelled). */
    tasksCancelled: z.number().int(),
  }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);
export type CancelReply = z.infer<typeof CancelReply>;
