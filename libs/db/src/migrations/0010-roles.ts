import { sql, type Kysely } from "kysely";
import { DB_ROLES, grantRoles, TABLE_PRIVILEGES } from "../grant-roles.ts";

// Least privilege (issue 14): a NOLOGIN group per service with only the privileges its queries need, a read-only
// group, and an owner group for the objects. The roles are cluster-wide and outlive this database, so `down`
// revokes this database's privileges and leaves the roles (another database may use them).
export async function up(db: Kysely<unknown>): Promise<void> {
  await grantRoles(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const [key, tables] of Object.entries(TABLE_PRIVILEGES)) {
    const role = sql.id(DB_ROLES[key as keyof typeof TABLE_PRIVILEGES]);
    for (const table of Object.keys(tables))
      await sql`REVOKE ALL ON ${sql.id(table)} FROM ${role}`.execute(db);
  }
  await sql`DROP FUNCTION IF EXISTS analyze_synced_tables()`.execute(db);
}
