import { sql, type Kysely } from "kysely";

// Tasks are the cursors: a run is complete when none is pending, and a lost message is found as a pending
// task that nobody has touched for a while. Rows carry first/last seen run so a scope can be swept.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE sources (
      id text PRIMARY KEY,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_completed_run uuid
    );
    CREATE TABLE runs (
      id uuid PRIMARY KEY,
      source_id text NOT NULL REFERENCES sources(id),
      kind text NOT NULL DEFAULT 'full',
      status text NOT NULL DEFAULT 'running' CHECK (status IN ('running','succeeded','failed','cancelled')),
      is_initial boolean NOT NULL DEFAULT false,
      started_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz,
      stats jsonb NOT NULL DEFAULT '{}',
      warnings jsonb NOT NULL DEFAULT '[]',
      error text
    );
    -- At most one active run per source, enforced by the database rather than by whoever happens to lead.
    CREATE UNIQUE INDEX runs_one_active_per_source ON runs (source_id) WHERE status = 'running';
    CREATE INDEX runs_source_started ON runs (source_id, started_at DESC);

    CREATE TABLE tasks (
      id text PRIMARY KEY,
      run_id uuid NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      source_id text NOT NULL,
      service text NOT NULL,
      operation text NOT NULL,
      params jsonb NOT NULL,
      page_token text,
      account_id text,
      scope text,
      page_index integer NOT NULL DEFAULT 0,
      parent_id text,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','done','failed')),
      publish_count integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      published_at timestamptz NOT NULL DEFAULT now(),
      done_at timestamptz,
      error text
    );
    CREATE INDEX tasks_pending_by_run ON tasks (run_id) WHERE status = 'pending';
    CREATE INDEX tasks_pending_by_publish ON tasks (published_at) WHERE status = 'pending';

    CREATE TABLE outbox (
      id text PRIMARY KEY,
      subject text NOT NULL,
      payload text NOT NULL,
      headers jsonb,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      published_at timestamptz
    );
    CREATE INDEX outbox_unpublished ON outbox (created_at) WHERE published_at IS NULL;

    CREATE TABLE resources (
      source_id text NOT NULL,
      type text NOT NULL,
      id text NOT NULL,
      parent_type text,
      parent_id text,
      name text NOT NULL,
      attrs jsonb NOT NULL,
      scope text,
      first_seen_run uuid NOT NULL,
      last_seen_run uuid NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      deleted_at timestamptz,
      PRIMARY KEY (source_id, type, id)
    );
    CREATE INDEX resources_scope ON resources (source_id, scope) WHERE deleted_at IS NULL;

    CREATE TABLE entitlements (
      source_id text NOT NULL,
      id text NOT NULL,
      resource_type text NOT NULL,
      resource_id text NOT NULL,
      slug text NOT NULL,
      name text NOT NULL,
      attrs jsonb NOT NULL,
      scope text,
      first_seen_run uuid NOT NULL,
      last_seen_run uuid NOT NULL,
      deleted_at timestamptz,
      PRIMARY KEY (source_id, id)
    );
    CREATE INDEX entitlements_scope ON entitlements (source_id, scope) WHERE deleted_at IS NULL;

    CREATE TABLE grants (
      source_id text NOT NULL,
      id text NOT NULL,
      entitlement_id text NOT NULL,
      principal_type text NOT NULL,
      principal_id text NOT NULL,
      expandable boolean NOT NULL,
      attrs jsonb NOT NULL,
      scope text,
      first_seen_run uuid NOT NULL,
      last_seen_run uuid NOT NULL,
      revoked_at timestamptz,
      PRIMARY KEY (source_id, id)
    );
    CREATE INDEX grants_scope ON grants (source_id, scope) WHERE revoked_at IS NULL;
    CREATE INDEX grants_principal ON grants (source_id, principal_type, principal_id) WHERE revoked_at IS NULL;
    CREATE INDEX grants_entitlement ON grants (source_id, entitlement_id) WHERE revoked_at IS NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE grants, entitlements, resources, outbox, tasks, runs, sources`.execute(db);
}
