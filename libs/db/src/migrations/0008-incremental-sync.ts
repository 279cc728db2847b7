import { sql, type Kysely } from "kysely";

// Incremental sync (docs/freshness.md). Runs gain kinds: `full` (as before), `refresh` (targeted refreshes taken
// from refresh_queue; at most one active full-or-refresh run per source still, so sweeps never race) and `feed`
// (one long-lived run per source that owns the change-feed poll tasks, so polls are tasks like any page: budgeted,
// redelivered, recovered when stalled; it never completes). Feed cursors commit with the refreshes they produced.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE runs ADD CONSTRAINT runs_kind_valid CHECK (kind IN ('full','refresh','feed'));
    DROP INDEX runs_one_active_per_source;
    CREATE UNIQUE INDEX runs_one_active_per_source ON runs (source_id) WHERE status = 'running' AND kind <> 'feed';
    CREATE UNIQUE INDEX runs_one_feed_run_per_source ON runs (source_id) WHERE status = 'running' AND kind = 'feed';

    CREATE TABLE feed_cursors (
      source_id text NOT NULL REFERENCES sources(id),
      feed_id text NOT NULL,
      account_id text NOT NULL,
      region text NOT NULL,
      event_source text NOT NULL,
      -- committed cursor: the next window starts at since (minus the overlap); seen_ids are the events at or
      -- after since - overlap already translated, so a late or repeated delivery is applied once
      since timestamptz NOT NULL,
      seen_ids text[] NOT NULL DEFAULT '{}',
      committed_at timestamptz,
      -- in-flight window (window_task_id null when idle): since and end are fixed for every page of a cycle
      window_task_id text,
      window_since timestamptz,
      window_end timestamptz,
      window_newest timestamptz,
      window_seen_ids text[] NOT NULL DEFAULT '{}',
      window_intents jsonb NOT NULL DEFAULT '[]',
      window_started_at timestamptz,
      -- scheduling: round robin in feed_id order, an interval that backs off while the feed is quiet
      next_poll_at timestamptz NOT NULL DEFAULT now(),
      quiet_polls integer NOT NULL DEFAULT 0,
      last_polled_at timestamptz,
      -- observability
      events_seen bigint NOT NULL DEFAULT 0,
      events_translated bigint NOT NULL DEFAULT 0,
      events_ignored bigint NOT NULL DEFAULT 0,
      events_unknown bigint NOT NULL DEFAULT 0,
      last_event_at timestamptz,
      last_lag_ms bigint,
      PRIMARY KEY (source_id, feed_id)
    );

    -- Targeted refreshes waiting for (or taken by) a refresh run. A feed's window commit inserts them in the
    -- transaction that advances its cursor; grantline refresh inserts them on demand.
    CREATE TABLE refresh_queue (
      id bigserial PRIMARY KEY,
      source_id text NOT NULL REFERENCES sources(id),
      intent_key text NOT NULL,
      intent jsonb NOT NULL,
      feed_id text,
      event_id text,
      event_name text,
      event_time timestamptz,
      requested_by text,
      enqueued_at timestamptz NOT NULL DEFAULT now(),
      run_id uuid REFERENCES runs(id) ON DELETE SET NULL,
      done_at timestamptz
    );
    CREATE INDEX refresh_queue_waiting ON refresh_queue (source_id, id) WHERE run_id IS NULL;
    CREATE INDEX refresh_queue_by_run ON refresh_queue (run_id) WHERE run_id IS NOT NULL;

    -- Per-key event versions: taken from one sequence after the row the event describes is locked, so two
    -- events for the same grant or resource are numbered in commit order.
    CREATE SEQUENCE event_versions;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP SEQUENCE event_versions;
    DROP TABLE refresh_queue, feed_cursors;
    DROP INDEX runs_one_feed_run_per_source;
    DROP INDEX runs_one_active_per_source;
    CREATE UNIQUE INDEX runs_one_active_per_source ON runs (source_id) WHERE status = 'running';
    ALTER TABLE runs DROP CONSTRAINT runs_kind_valid;
  `.execute(db);
}
