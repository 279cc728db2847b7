import { z } from "zod";
import { PrincipalType, ResourceType } from "./vocabulary.ts";

/**
 * Incremental sync's vocabulary (docs/freshness.md): change feeds, the records they yield, the targeted
 * refreshes those records become, and the object sweeps a targeted refresh closes with.
 *
 * A feed is (source, account, region, event source). Records are normalized CloudTrail management events, so
 * any transport that carries CloudTrail records (LookupEvents today; an EventBridge → SQS queue later) feeds the
 * same translation and the same cursor logic.
 */
export const FEED_EVENT_SOURCES = [
  "sso.amazonaws.com",
  "identitystore.amazonaws.com",
  "identitystore-scim.amazonaws.com",
  "organizations.amazonaws.com",
  "iam.amazonaws.com",
] as const;
export const FeedEventSource = z.enum(FEED_EVENT_SOURCES);
export type FeedEventSource = z.infer<typeof FeedEventSource>;

/**
 * What a feed reads: one event source (lookup attribute `EventSource`), or — the management account's combined
 * feed — every write event its account records in its Region (lookup attribute `ReadOnly=false`), routed by each
 * record's own event source: one call where five would be made.
 */
export const WRITE_EVENTS = "write-events";
export const FeedSelector = z.union([FeedEventSource, z.literal(WRITE_EVENTS)]);
export type FeedSelector = z.infer<typeof FeedSelector>;

/** `<accountId>/<region>/<eventSource>`: the feed's id, unique within a source. */
export const FeedId = z
  .string()
  .regex(/^\d{12}\/[a-z0-9-]+\/[a-z0-9.-]+$/, "<accountId>/<region>/<eventSource>");
export type FeedId = z.infer<typeof FeedId>;

export function feedIdOf(accountId: string, region: string, eventSource: string): FeedId {
  return `${accountId}/${region}/${eventSource}`;
}

/** One CloudTrail management event, as any feed transport yields it (parsed from `CloudTrailEvent`). */
export const ChangeRecord = z.object({
  eventId: z.string().min(1),
  eventTime: z.iso.datetime(),
  eventSource: z.string(),
  eventName: z.string(),
  /** CloudTrail's `readOnly`; read-only events are skipped. */
  readOnly: z.boolean(),
  /** Set when the call failed: nothing changed, the record is skipped. */
  errorCode: z.string().nullable(),
  /** `recipientAccountId`: the account whose state changed. */
  accountId: z.string().nullable(),
  region: z.string().nullable(),
  requestParameters: z.record(z.string(), z.unknown()).nullable(),
  responseElements: z.record(z.string(), z.unknown()).nullable(),
  /** The caller (the 2025 Identity Center format has `onBehalfOf` and no user name); kept for the audit trail. */
  userIdentity: z.record(z.string(), z.unknown()).nullable(),
  /**
   * What an event AWS emits itself (`eventType: AwsServiceEvent`) reports, e.g. Organizations'
   * `CreateAccountResult` with the new account's id; absent on API calls.
   */
  serviceEventDetails: z.record(z.string(), z.unknown()).nullable().optional(),
});
export type ChangeRecord = z.infer<typeof ChangeRecord>;

const acct = z.string().regex(/^\d{12}$/);

/**
 * The smallest re-read that learns the new state after a change. Each kind reuses the full sync's operations,
 * scopes and sweeps (libs/model `refreshRequests`), so a targeted refresh and a full sync converge to the same rows
 * and emit the same events. `source` is the broadest: a full run.
 */
export const RefreshIntent = z.discriminatedUnion("kind", [
  /** One (account, permission set) pair's assignments. */
  z.object({
    kind: z.literal("assignments"),
    instanceArn: z.string(),
    accountId: acct,
    permissionSetArn: z.string(),
  }),
  /** Which accounts a permission set is provisioned to, then each pair's assignments. */
  z.object({
    kind: z.literal("permission-set-accounts"),
    instanceArn: z.string(),
    permissionSetArn: z.string(),
  }),
  /** One permission set's definition and policies. */
  z.object({ kind: z.literal("permission-set"), instanceArn: z.string(), permissionSetArn: z.string() }),
  /** One group's members. */
  z.object({ kind: z.literal("group-members"), identityStoreId: z.string(), groupId: z.string() }),
  /** A membership known only by its id (DeleteGroupMembership): resolved to its group from the synced rows. */
  z.object({ kind: z.literal("membership"), identityStoreId: z.string(), membershipId: z.string() }),
  /** One Identity Store user (and, when it is gone, the lists that named it). */
  z.object({ kind: z.literal("sso-user"), identityStoreId: z.string(), userId: z.string() }),
  /** One Identity Store group (and, when it is gone, the lists that named it). */
  z.object({ kind: z.literal("sso-group"), identityStoreId: z.string(), groupId: z.string() }),
  /** One account: its fields, state and parent (and its IAM when it became reachable or unreachable). */
  z.object({ kind: z.literal("account"), accountId: acct }),
  /** Roots and organizational units. */
  z.object({ kind: z.literal("organization-tree") }),
  /** One SCP/RCP's definition. */
  z.object({ kind: z.literal("org-policy"), policyId: z.string() }),
  /** One SCP/RCP's targets. */
  z.object({ kind: z.literal("org-policy-targets"), policyId: z.string() }),
  /** One IAM role: trust, boundary, attached and inline policies. */
  z.object({ kind: z.literal("iam-role"), accountId: acct, roleName: z.string() }),
  /** One IAM user: groups, boundary, attached and inline policies. */
  z.object({ kind: z.literal("iam-user"), accountId: acct, userName: z.string() }),
  /** One IAM user's access keys. */
  z.object({ kind: z.literal("iam-user-keys"), accountId: acct, userName: z.string() }),
  /** One IAM group: members, attached and inline policies. */
  z.object({ kind: z.literal("iam-group"), accountId: acct, groupName: z.string() }),
  /** One customer-managed policy's default version. */
  z.object({ kind: z.literal("iam-policy"), accountId: acct, policyArn: z.string() }),
  /** One account's whole IAM (its GAAD chain): the broader refresh for an IAM event that names too little. */
  z.object({ kind: z.literal("iam-account"), accountId: acct }),
  /** A full run: the broadest refresh, for events that cannot be narrowed. */
  z.object({ kind: z.literal("source") }),
]);
export type RefreshIntent = z.infer<typeof RefreshIntent>;
export type RefreshIntentKind = RefreshIntent["kind"];

/**
 * What a targeted refresh of one object closes with, instead of a scope sweep: rows of that object this run did
 * not stamp are revoked/deleted with their events (a vanished object: all of them). Applied by the writer after
 * the batch's upserts.
 */
export const ObjectSweep = z.discriminatedUnion("kind", [
  /** The resource itself, its entitlements and the grants on them. */
  z.object({ kind: z.literal("resource"), type: ResourceType, id: z.string().min(1) }),
  /** Grants held by a principal, within `scope` (null: any scope). */
  z.object({
    kind: z.literal("held-by"),
    principalType: PrincipalType,
    principalId: z.string().min(1),
    scope: z.string().nullable(),
    /**
     * Only grants on entitlements of resources of these types (absent: every grant the principal holds in
     * `scope`). A role's or user's refresh re-reads its policies and memberships, not the trust policies of other
     * roles that name it: those grants (on `iam_role` entitlements) must survive its sweep. Entitlement ids start
     * with their resource type (`<resourceType>:<resourceId>:<slug>`), so the filter needs no join and also
     * matches grants on entitlements not synced (yet).
     */
    resourceTypes: z.array(ResourceType).optional(),
  }),
  /** Resources of `type` under a parent (an IAM user's access keys, an owner's inline policies), but `except`. */
  z.object({
    kind: z.literal("children"),
    parentType: ResourceType,
    parentId: z.string().min(1),
    type: ResourceType,
    except: z.array(z.string()).default([]),
  }),
  /**
   * Every row of a scope, and of its sub-scopes (`<scope>:…`): an account whose IAM is no longer read (suspended,
   * closed, gone) loses `iam:<account>`, `iam:<account>:keys` and `iam:<account>:alias` as a full run's sweep would.
   */
  z.object({ kind: z.literal("scope"), scope: z.string().min(1) }),
]);
export type ObjectSweep = z.infer<typeof ObjectSweep>;

/** How one record of a feed page was classified by the translation table. */
export const RecordOutcome = z.enum(["translated", "ignored", "unknown", "failed-call", "read-only"]);
export type RecordOutcome = z.infer<typeof RecordOutcome>;

/** A feed page as the mapper hands it to the writer: every record, classified; the writer de-duplicates. */
export const FeedPage = z.object({
  feedId: FeedId,
  records: z.array(
    z.object({
      eventId: z.string().min(1),
      eventTime: z.iso.datetime(),
      eventName: z.string(),
      outcome: RecordOutcome,
      intents: z.array(RefreshIntent),
    }),
  ),
  /** True on the last page of the cycle's window: the writer commits the cursor with the refreshes. */
  windowComplete: z.boolean(),
  /** The window's pinned end (the request's EndTime): a page of another window than the open one is ignored. */
  windowEnd: z.iso.datetime().optional(),
});
export type FeedPage = z.infer<typeof FeedPage>;
