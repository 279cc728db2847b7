import type { ColumnType, Generated } from "kysely";

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T = unknown> = ColumnType<T, string, string>;

export interface SourcesTable {
  id: string;
  created_at: Generated<Date>;
  last_completed_run: string | null;
  /** The last refresh run whose derivations are still to do (migration 0012); null when none is owed. */
  derive_run: Generated<string | null>;
}

export interface RunsTable {
  id: string;
  source_id: string;
  kind: Generated<string>;
  status: Generated<"running" | "succeeded" | "failed" | "cancelled">;
  is_initial: Generated<boolean>;
  started_at: Generated<Date>;
  finished_at: Timestamp | null;
  stats: Json<Record<string, number>>;
  warnings: Json<string[]>;
  error: string | null;
}

export interface TasksTable {
  id: string;
  run_id: string;
  source_id: string;
  service: string;
  operation: string;
  params: Json<Record<string, unknown>>;
  page_token: string | null;
  account_id: string | null;
  scope: string | null;
  page_index: Generated<number>;
  parent_id: string | null;
  status: Generated<"pending" | "done" | "failed" | "cancelled">;
  publish_count: Generated<number>;
  created_at: Generated<Date>;
  published_at: Generated<Date>;
  done_at: Timestamp | null;
  error: string | null;
  aws_calls: Generated<number>;
  throttled: Generated<number>;
  rows_written: Generated<number>;
  warnings: Generated<string[]>;
  grants_created: Generated<number>;
  grants_revoked: Generated<number>;
  resources_created: Generated<number>;
  resources_updated: Generated<number>;
  resources_deleted: Generated<number>;
  parts_applied: Generated<number[]>;
  scopes_swept: Generated<number>;
}

export interface OutboxTable {
  id: string;
  subject: string;
  payload: string;
  headers: Json<Record<string, string>> | null;
  created_at: Generated<Date>;
  published_at: Timestamp | null;
}

export interface ResourcesTable {
  source_id: string;
  type: string;
  id: string;
  parent_type: string | null;
  parent_id: string | null;
  name: string;
  attrs: Json<Record<string, unknown>>;
  scope: string | null;
  first_seen_run: string;
  last_seen_run: string;
  updated_at: Generated<Date>;
  deleted_at: Timestamp | null;
}

export interface EntitlementsTable {
  source_id: string;
  id: string;
  resource_type: string;
  resource_id: string;
  slug: string;
  name: string;
  attrs: Json<Record<string, unknown>>;
  scope: string | null;
  first_seen_run: string;
  last_seen_run: string;
  deleted_at: Timestamp | null;
}

export interface GrantsTable {
  source_id: string;
  id: string;
  entitlement_id: string;
  principal_type: string;
  principal_id: string;
  expandable: boolean;
  attrs: Json<Record<string, unknown>>;
  scope: string | null;
  first_seen_run: string;
  last_seen_run: string;
  revoked_at: Timestamp | null;
}

export interface FeedCursorsTable {
  source_id: string;
  feed_id: string;
  account_id: string;
  region: string;
  event_source: string;
  since: Timestamp;
  seen_ids: Generated<string[]>;
  committed_at: Timestamp | null;
  window_task_id: string | null;
  window_since: Timestamp | null;
  window_end: Timestamp | null;
  window_newest: Timestamp | null;
  window_seen_ids: Generated<string[]>;
  // Generated<Json<…>> would make its insert/update type the ColumnType itself rather than the JSON text.
  window_intents: ColumnType<unknown[], string | undefined, string>;
  window_started_at: Timestamp | null;
  next_poll_at: Generated<Date>;
  quiet_polls: Generated<number>;
  last_polled_at: Timestamp | null;
  events_seen: Generated<string>;
  events_translated: Generated<string>;
  events_ignored: Generated<string>;
  events_unknown: Generated<string>;
  last_event_at: Timestamp | null;
  last_lag_ms: string | null;
}

export interface RefreshQueueTable {
  id: Generated<string>;
  source_id: string;
  intent_key: string;
  intent: Json<Record<string, unknown>>;
  feed_id: string | null;
  event_id: string | null;
  event_name: string | null;
  event_time: Timestamp | null;
  requested_by: string | null;
  enqueued_at: Generated<Date>;
  run_id: string | null;
  done_at: Timestamp | null;
}

export interface ControlAuditTable {
  id: Generated<string>;
  at: Generated<Date>;
  user: string;
  verb: string;
  args: Json<unknown>;
  outcome: string;
}

export interface ProvisioningRequestsTable {
  id: string;
  source_id: string;
  verb: "grant" | "revoke";
  kind: string;
  target: Json<Record<string, unknown>>;
  grant_key: string;
  change: Json<Record<string, unknown>>;
  requester: string;
  reason: string | null;
  duration_seconds: number | null;
  expires_at: Timestamp | null;
  state: string;
  idempotency_key: string;
  detail: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  /** Executions published to the fetcher (migration 0015). */
  exec_attempt: Generated<number>;
  exec_at: Timestamp | null;
  /** When AWS confirmed the change; the request then waits for a re-read to show it. */
  aws_done_at: Timestamp | null;
  confirm_reads: Generated<number>;
}

export interface GrantHoldersTable {
  grant_key: string;
  /** A grant request's id, or `standing`. */
  holder: string;
  standing: boolean;
  expires_at: Timestamp | null;
  created_at: Generated<Date>;
  ended_at: Timestamp | null;
  end_reason: string | null;
}

export interface ProvisioningAuditTable {
  id: Generated<string>;
  at: Generated<Date>;
  request_id: string;
  source_id: string | null;
  verb: string;
  requester: string;
  reason: string | null;
  action: string;
  outcome: string;
  state: string | null;
  detail: Json<Record<string, unknown>>;
}

/** Roles' external-id values (migration 0013): the writer's alone. */
interface TrustExternalIdsTable {
  source_id: string;
  resource_type: string;
  resource_id: string;
  fingerprint: string;
  value: string;
  first_seen_run: string;
  last_seen_run: string;
  updated_at: Generated<Date>;
}

/** The kysely view of the schema the migrations build. */
export interface Database {
  sources: SourcesTable;
  runs: RunsTable;
  tasks: TasksTable;
  outbox: OutboxTable;
  resources: ResourcesTable;
  entitlements: EntitlementsTable;
  grants: GrantsTable;
  feed_cursors: FeedCursorsTable;
  refresh_queue: RefreshQueueTable;
  control_audit: ControlAuditTable;
  provisioning_requests: ProvisioningRequestsTable;
  grant_holders: GrantHoldersTable;
  provisioning_audit: ProvisioningAuditTable;
  trust_external_ids: TrustExternalIdsTable;
}
