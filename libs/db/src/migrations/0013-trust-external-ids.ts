import { sql, type Kysely } from "kysely";
import { grantRoles } from "../grant-roles.ts";

// The `sts:ExternalId` values of roles' trust policies. They are shared secrets: the role's attrs, its grants'
// conditions and every event carry only their fingerprints, and this table — the one place the values are kept —
// is the writer's alone (libs/db TABLE_PRIVILEGES: no grant to the read-only role, nor to the scheduler).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE trust_external_ids (
      source_id text NOT NULL,
      resource_type text NOT NULL,
      resource_id text NOT NULL,
      fingerprint text NOT NULL,
      value text NOT NULL,
      first_seen_run uuid NOT NULL,
      last_seen_run uuid NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (source_id, resource_type, resource_id, fingerprint),
      FOREIGN KEY (source_id, resource_type, resource_id) REFERENCES resources (source_id, type, id) ON DELETE CASCADE
    )`.execute(db);
  // A swept role keeps its row (deleted_at), not its secrets: whichever role sweeps it (the writer, or the
  // scheduler's deriver), the values go with it. SECURITY DEFINER so the sweeping role needs no privilege here.
  await sql`
    CREATE FUNCTION trust_external_ids_swept() RETURNS trigger
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    BEGIN
      DELETE FROM trust_external_ids
       WHERE source_id = NEW.source_id AND resource_type = NEW.type AND resource_id = NEW.id;
      RETURN NULL;
    END $$`.execute(db);
  await sql`REVOKE ALL ON FUNCTION trust_external_ids_swept() FROM PUBLIC`.execute(db);
  await sql`
    CREATE TRIGGER trust_external_ids_swept AFTER UPDATE OF deleted_at ON resources
    FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL)
    EXECUTE FUNCTION trust_external_ids_swept()`.execute(db);
  await grantRoles(db);
  // The definer must be the owner of the table it deletes from, not the login user that migrated.
  const member = await sql<{ ok: boolean }>`
    SELECT pg_has_role(current_user, 'grantline_owner', 'MEMBER') AS ok`.execute(db);
  if (member.rows[0]?.ok)
    await sql`ALTER FUNCTION trust_external_ids_swept() OWNER TO grantline_owner`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER trust_external_ids_swept ON resources`.execute(db);
  await sql`DROP FUNCTION trust_external_ids_swept()`.execute(db);
  await sql`DROP TABLE trust_external_ids`.execute(db);
}
