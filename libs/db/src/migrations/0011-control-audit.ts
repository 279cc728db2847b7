import { sql, type Kysely } from "kysely";
import { grantRoles } from "../grant-roles.ts";

// Every control request (start a sync, cancel, refresh, status) with the NATS user that sent it — an identity
// the server enforced (each operator user may publish only on its own control subjects). Append-only: a trigger
// refuses UPDATE, DELETE and TRUNCATE, so a record cannot be rewritten by the roles that write it.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE control_audit (
      id bigserial PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT now(),
      "user" text NOT NULL,
      verb text NOT NULL,
      args jsonb NOT NULL,
      outcome text NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX control_audit_at ON control_audit (at)`.execute(db);
  await sql`
    CREATE FUNCTION control_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'control_audit is append-only';
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER control_audit_append_only BEFORE UPDATE OR DELETE ON control_audit
    FOR EACH ROW EXECUTE FUNCTION control_audit_append_only()`.execute(db);
  await sql`
    CREATE TRIGGER control_audit_no_truncate BEFORE TRUNCATE ON control_audit
    FOR EACH STATEMENT EXECUTE FUNCTION control_audit_append_only()`.execute(db);
  // The scheduler's role writes it, the read-only role reads it (libs/db TABLE_PRIVILEGES).
  await grantRoles(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE control_audit`.execute(db);
  await sql`DROP FUNCTION control_audit_append_only()`.execute(db);
}
