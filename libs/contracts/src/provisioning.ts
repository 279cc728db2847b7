import { z } from "zod";
import { SourceId } from "./messages.ts";

/**
 * What `grantline grant|revoke` changes (docs/provisioning-requests.md). Each target names its objects by id or,
 * where the synced data makes it unambiguous, by name; the scheduler resolves them against Postgres.
 */
export const ProvisioningTarget = z.discriminatedUnion("kind", [
  z.object({
    /** Identity Center account assignment: `principal` may use `permissionSet` on `account`. */
    kind: z.literal("account-assignment"),
    /** An Identity Center user or group: id, user name or group display name. */
    principal: z.string().min(1),
    /** A permission set: ARN or name. */
    permissionSet: z.string().min(1),
    account: z.string().regex(/^\d{12}$/, "a 12-digit account id"),
  }),
  z.object({
    /** Identity Store group membership. */
    kind: z.literal("group-membership"),
    /** An Identity Center user: id or user name. */
    user: z.string().min(1),
    /** An Identity Center group: id or display name. */
    group: z.string().min(1),
  }),
  z.object({
    /** IAM group membership. */
    kind: z.literal("iam-group-membership"),
    /** An IAM user: ARN or name. */
    user: z.string().min(1),
    /** An IAM group: ARN or name. */
    group: z.string().min(1),
  }),
]);
export type ProvisioningTarget = z.infer<typeof ProvisioningTarget>;

export const ProvisioningKind = z.enum(["account-assignment", "group-membership", "iam-group-membership"]);
export type ProvisioningKind = z.infer<typeof ProvisioningKind>;

/**
 * A request's client-supplied id: the same id twice is one request. A token (no spaces), so it can be quoted in
 * logs and commands as is.
 */
export const ProvisioningRequestId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, "letters, digits, '.', '_', ':' and '-' (max 128)");
export type ProvisioningRequestId = z.infer<typeof ProvisioningRequestId>;

/** The longest time-bound grant: a year. Longer access is a standing grant (no `--for`). */
export const MAX_GRANT_SECONDS = 366 * 24 * 3600;

const common = {
  /** Absent: the only configured source (an error when there are several). */
  sourceId: SourceId.optional(),
  /** Absent: the scheduler generates one (a retry must then send the id the reply named). */
  id: ProvisioningRequestId.optional(),
  target: ProvisioningTarget,
  reason: z.string().max(1000).optional(),
  /** Validate and say what would change; nothing is recorded. */
  dryRun: z.boolean().default(false),
  /**
   * How long the reply may wait for the request's final state (the AWS change made and confirmed by a re-read,
   * or failed). 0: reply at once with `accepted`. A request still unfinished then is answered with its state
   * (`accepted` or `executing`) and goes on; asking again with the same id waits again.
   */
  waitSeconds: z.number().int().min(0).max(900).default(120),
};

export const GrantRequest = z.object({
  ...common,
  /** Time-bound access: revoked this many seconds after acceptance (unless another holder remains). */
  durationSeconds: z.number().int().positive().max(MAX_GRANT_SECONDS).optional(),
});
export type GrantRequest = z.infer<typeof GrantRequest>;

export const RevokeRequest = z.object({
  ...common,
  /** End only this grant request's hold; absent: every holder, and the access goes. */
  holder: ProvisioningRequestId.optional(),
});
export type RevokeRequest = z.infer<typeof RevokeRequest>;

/**
 * A request's state: `accepted` (validated and recorded; the AWS call is still to make), `executing`, `active`
 * (the change is made, or the grant was already there and this request holds it too), `failed`, `expired`
 * (its time ran out), `revoked` (a revoke request ended its hold), `done` (a revoke request carried out).
 */
export const ProvisioningState = z.enum([
  "accepted",
  "executing",
  "active",
  "failed",
  "expired",
  "revoked",
  "done",
]);
export type ProvisioningState = z.infer<typeof ProvisioningState>;

/** Who holds a grant: a grant request, or `standing` (it existed before any request; no expiry removes it). */
export const GrantHolder = z.object({
  holder: z.string(),
  standing: z.boolean(),
  expiresAt: z.iso.datetime().nullable(),
});
export type GrantHolder = z.infer<typeof GrantHolder>;

/** Why a request was refused; `heldBy` names what already grants it (a no-op). */
export const ProvisioningRefusal = z.enum([
  "unknown-source",
  "unknown-principal",
  "ambiguous-name",
  "unknown-permission-set",
  "unknown-account",
  "account-not-active",
  "permission-set-not-in-instance",
  "unknown-group",
  "principal-mismatch",
  "already-granted",
  "not-granted",
  "unknown-holder",
  "id-reused",
]);
export type ProvisioningRefusal = z.infer<typeof ProvisioningRefusal>;

const refused = z.object({
  ok: z.literal(false),
  error: z.string(),
  refusal: ProvisioningRefusal.optional(),
  heldBy: z.array(GrantHolder).optional(),
  /** The synced grant that already gives the access (its `grants.id`), for `already-granted`. */
  grantId: z.string().optional(),
});

const accepted = z.object({
  ok: z.literal(true),
  requestId: ProvisioningRequestId,
  dryRun: z.boolean(),
  /** True when the id named an existing request with the same body: its state, nothing new recorded. */
  existing: z.boolean(),
  state: ProvisioningState,
  /** `<sourceId>/<grants.id>`: the grant the request is about. */
  grantKey: z.string(),
  /** What the request changes (or, dry run, would change) in AWS, in words; empty when nothing. */
  changes: z.array(z.string()),
  expiresAt: z.iso.datetime().nullable(),
  /** The grant's holders after the request. */
  holders: z.array(GrantHolder),
  /** What happened, in words: for `failed`, AWS's reason verbatim. */
  detail: z.string().nullable().optional(),
});

export const GrantReply = z.discriminatedUnion("ok", [accepted, refused]);
export type GrantReply = z.infer<typeof GrantReply>;

export const RevokeReply = z.discriminatedUnion("ok", [accepted, refused]);
export type RevokeReply = z.infer<typeof RevokeReply>;

export const GrantsRequest = z.object({
  sourceId: SourceId.optional(),
  /** Also requests that ended (expired, revoked, failed, done); newest first, at most `limit`. */
  all: z.boolean().default(false),
  limit: z.number().int().positive().max(1000).default(200),
});
export type GrantsRequest = z.infer<typeof GrantsRequest>;

export const ProvisioningRequestSummary = z.object({
  id: ProvisioningRequestId,
  sourceId: SourceId,
  verb: z.enum(["grant", "revoke"]),
  target: ProvisioningTarget,
  grantKey: z.string(),
  requester: z.string(),
  reason: z.string().nullable(),
  state: ProvisioningState,
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  expiresAt: z.iso.datetime().nullable(),
  holders: z.array(GrantHolder),
});
export type ProvisioningRequestSummary = z.infer<typeof ProvisioningRequestSummary>;

export const GrantsReply = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), requests: z.array(ProvisioningRequestSummary) }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);
export type GrantsReply = z.infer<typeof GrantsReply>;

/**
 * `data` of every `provisioning.*` event. The envelope's `subject` is `provisioning/<requestId>` and its
 * `grantlinerunid` the request id (a request is not part of a run).
 */
export const ProvisioningEventData = z.object({
  requestId: ProvisioningRequestId,
  verb: z.enum(["grant", "revoke"]),
  target: ProvisioningTarget,
  grantKey: z.string(),
  requester: z.string(),
  reason: z.string().nullable(),
  state: ProvisioningState,
  expiresAt: z.iso.datetime().nullable(),
  /** What happened, in words (the refusal, the AWS error, whether an expiry revoked the access). */
  detail: z.string().nullable(),
});
export type ProvisioningEventData = z.infer<typeof ProvisioningEventData>;

/**
 * One AWS change a provisioning request needs, with every id AWS wants resolved from the synced rows: what the
 * executor calls (CreateAccountAssignment / DeleteAccountAssignment, Create/DeleteGroupMembership,
 * AddUserToGroup / RemoveUserFromGroup). `requestIds` are the requests it carries out (several grant requests
 * joined to one pending grant share one call).
 */
export const ProvisioningCall = z.object({
  sourceId: SourceId,
  grantKey: z.string(),
  requestIds: z.array(ProvisioningRequestId).min(1),
  action: z.enum(["create", "delete"]),
  change: z.discriminatedUnion("kind", [
    z.object({
      kind: z.literal("account-assignment"),
      instanceArn: z.string(),
      accountId: z.string(),
      permissionSetArn: z.string(),
      principalType: z.enum(["USER", "GROUP"]),
      principalId: z.string(),
    }),
    z.object({
      kind: z.literal("group-membership"),
      identityStoreId: z.string(),
      groupId: z.string(),
      userId: z.string(),
      /** Known once the membership is synced: what DeleteGroupMembership needs. */
      membershipId: z.string().nullable(),
    }),
    z.object({
      kind: z.literal("iam-group-membership"),
      accountId: z.string(),
      groupName: z.string(),
      userName: z.string(),
    }),
  ]),
});
export type ProvisioningCall = z.infer<typeof ProvisioningCall>;

/**
 * `<prefix>.prov.exec.<source>`: one AWS change for the fetcher's provisioning consumer to make. `callId` names the
 * change (a hash of action, grant and requests) and `attempt` its execution: the message id is both, so a
 * re-published attempt is a new message and a repeated publish of one attempt is dropped by JetStream.
 */
export const ProvisioningExec = z.object({
  callId: z.string().min(1),
  attempt: z.number().int().positive(),
  call: ProvisioningCall,
});
export type ProvisioningExec = z.infer<typeof ProvisioningExec>;

/**
 * The confirmed end of a grant or revoke: what libs/aws's executor returns and `ProvisioningDone` carries, one
 * schema so the two cannot drift. `failed` is AWS's final answer for this change — an assignment operation's
 * `FAILED` status, or a refusal no retry changes (denied, unknown principal or group, quota) — with AWS's message
 * verbatim in `reason` and its error code (or `FAILED`) in `code`. Anything that may pass on a retry is thrown as a
 * `RetryableError` instead; a change the executor cannot serve as a `PermanentError`.
 */
export const AccessChangeOutcome = z.discriminatedUnion("outcome", [
  z.object({
    outcome: z.literal("succeeded"),
    /** The assignment operation's request id (account assignments only). */
    requestId: z.string().optional(),
    /** Why nothing had to change: the access was already granted or already absent. */
    note: z.string().optional(),
  }),
  z.object({
    outcome: z.literal("failed"),
    reason: z.string(),
    code: z.string(),
    requestId: z.string().optional(),
  }),
]);
export type AccessChangeOutcome = z.infer<typeof AccessChangeOutcome>;

/**
 * `<prefix>.prov.done.<source>`: what AWS finally answered for a `ProvisioningExec`, for the scheduler to record
 * and confirm. `failed` carries AWS's reason and code verbatim; anything retryable never gets here.
 */
export const ProvisioningDone = z.object({
  callId: z.string().min(1),
  attempt: z.number().int().positive(),
  sourceId: SourceId,
  requestIds: z.array(ProvisioningRequestId).min(1),
  action: z.enum(["create", "delete"]),
  outcome: AccessChangeOutcome,
  /** How long the change took in the fetcher (slot wait, calls and status polls). */
  ms: z.number().int().nonnegative(),
});
export type ProvisioningDone = z.infer<typeof ProvisioningDone>;
