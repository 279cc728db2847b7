import { sql, type Kysely } from "kysely";
import { grantRoles } from "../grant-roles.ts";

// Provisioning requests (`grantline grant|revoke`, docs/provisioning-requests.md). A request's id is the
// client's: the primary key makes the same id twice one request. `grant_holders` says who holds each grant
// (`<sourceId>/<grants.id>`): grant requests, and `standing` for an assignment that existed before any request.
// The expiry sweeper revokes a grant only when its last holder ends, so expiries live here, durable, and fire
// once (a state transition under FOR UPDATE SKIP LOCKED). `provisioning_audit` is append-only like
// control_audit (migration 0011): a trigger refuses UPDATE, DELETE and TRUNCATE.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE provisioning_requests (
      id text PRIMARY KEY,
      source_id text NOT NULL,
      verb text NOT NULL CHECK (verb IN ('grant', 'revoke')),
      kind text NOT NULL,
      target jsonb NOT NULL,
      grant_key text NOT NULL,
      -- The AWS change with every id resolved at request time (ProvisioningCall.change of @grantline/contracts).
      change jsonb NOT NULL,
      requester text NOT NULL,
      reason text,
      duration_seconds integer,
      expires_at timestamptz,
      state text NOT NULL,
      idempotency_key text NOT NULL,
      detail text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX provisioning_requests_grant_key ON provisioning_requests (grant_key)`.execute(db);
  await sql`
    CREATE INDEX provisioning_requests_due ON provisioning_requests (expires_at)
     WHERE state IN ('accepted', 'executing', 'active') AND expires_at IS NOT NULL`.execute(db);
  await sql`
    CREATE TABLE grant_holders (
      grant_key text NOT NULL,
      holder text NOT NULL,
      standing boolean NOT NULL,
      expires_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      ended_at timestamptz,
      end_reason text,
      PRIMARY KEY (grant_key, holder)
    )`.execute(db);
  await sql`
    CREATE TABLE provisioning_audit (
      id bigserial PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT now(),
      request_id text NOT NULL,
      source_id text,
      verb text NOT NULL,
      requester text NOT NULL,
      reason text,
      action text NOT NULL,
      outcome text NOT NULL,
      state text,
      detail jsonb NOT NULL DEFAULT '{}'::jsonb
    )`.execute(db);
  await sql`CREATE INDEX provisioning_audit_request ON provisioning_audit (request_id, id)`.execute(db);
  await sql`
    CREATE FUNCTION provisioning_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'provisioning_audit is append-only';
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER provisioning_audit_append_only BEFORE UPDATE OR DELETE ON provisioning_audit
    FOR EACH ROW EXECUTE FUNCTION provisioning_audit_append_only()`.execute(db);
  await sql`
    CREATE TRIGGER provisioning_audit_no_truncate BEFORE TRUNCATE ON provisioning_audit
    FOR EACH STATEMENT EXECUTE FUNCTION provisioning_audit_append_only()`.execute(db);
  await grantRoles(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE provisioning_audit, grant_holders, provisioning_requests`.execute(db);
  await sql`DROP FUNCTION provisioning_audit_append_only()`.execute(db);
}
