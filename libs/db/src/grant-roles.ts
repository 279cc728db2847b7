import { sql, type Kysely } from "kysely";

/**
 * grantline's Postgres roles. All are NOLOGIN groups: a deployment creates one login user per service and grants
 * it the service's group (`CREATE ROLE writer_1 LOGIN PASSWORD '…' IN ROLE grantline_writer`), so passwords are
 * rotated per login user without touching privileges. Roles are cluster-wide; the privileges are per database.
 */
export const DB_ROLES = {
  /** Owns every table, view, sequence and function; the login user that runs migrations is a member. */
  owner: "grantline_owner",
  writer: "grantline_writer",
  scheduler: "grantline_scheduler",
  /** The CLI's queries and users' own SQL: SELECT only, and nothing the pipeline keeps to itself. */
  readonly: "grantline_readonly",
} as const;

type Privilege = "SELECT" | "INSERT" | "UPDATE" | "DELETE";
type ServiceRole = Exclude<keyof typeof DB_ROLES, "owner">;

const R: Privilege[] = ["SELECT"];
const RU: Privilege[] = ["SELECT", "UPDATE"];
const RI: Privilege[] = ["SELECT", "INSERT"];
const RIU: Privilege[] = ["SELECT", "INSERT", "UPDATE"];
const RID: Privilege[] = ["SELECT", "INSERT", "DELETE"];
const ALL: Privilege[] = ["SELECT", "INSERT", "UPDATE", "DELETE"];

// What settling a run does (both the writer, after a run's last batch, and the scheduler, finishing idle runs
// through completeRunIfDone): upserts and derivations insert and update synced rows (never delete them: a
// vanished row is marked deleted/revoked), the grant chains are recomputed (delete + insert).
const SETTLE_RUNS: Record<string, Privilege[]> = {
  resources: RIU,
  entitlements: RIU,
  grants: RIU,
  grant_chains: RID,
  effective_grants: R,
  outbox: ALL,
  refresh_queue: RIU,
  sources: RIU,
};

/**
 * Table privileges per service role, from the queries each one runs (libs/db functions called by the service's
 * main.ts and what they call). Nothing else: no DDL, no TRUNCATE, no table it does not touch.
 */
export const TABLE_PRIVILEGES: Record<ServiceRole, Record<string, Privilege[]>> = {
  // applyBatch (upserts, sweeps, child tasks, feed pages, completeRunIfDone), failTask, the outbox publisher,
  // refreshPlannerStatistics (ANALYZE through analyze_synced_tables()).
  // …and roles' external-id values (trust-external-ids.ts), which no other role may read.
  writer: { ...SETTLE_RUNS, runs: RU, tasks: RIU, feed_cursors: RU, trust_external_ids: ALL },
  // Runs and their root tasks, cancel (drops a run's unpublished outbox rows), stalled tasks, feed cursors and
  // windows (prunes feed tasks), refresh runs, completeIdleRuns, the outbox publisher.
  // …and the control plane's audit records (append-only: a trigger refuses UPDATE and DELETE).
  // …and provisioning requests, their holders and their audit (append-only too).
  scheduler: {
    ...SETTLE_RUNS,
    runs: RIU,
    tasks: ALL,
    feed_cursors: ALL,
    control_audit: RI,
    provisioning_requests: RIU,
    grant_holders: RIU,
    provisioning_audit: RI,
  },
  // The CLI's access queries, run summaries and feed status; users' own SQL on the views. The outbox (event
  // payloads), the refresh queue, the tasks' parameters and the external-id values (trust_external_ids: the
  // read-only role sees their fingerprints only) are the pipeline's own.
  readonly: {
    effective_grants: R,
    resources: R,
    entitlements: R,
    grants: R,
    grant_chains: R,
    sources: R,
    runs: R,
    feed_cursors: R,
    control_audit: R,
    provisioning_requests: R,
    grant_holders: R,
    provisioning_audit: R,
  },
};

/** Sequences the services draw from (event versions, refresh queue ids). */
const SEQUENCES = [
  "event_versions",
  "refresh_queue_id_seq",
  "control_audit_id_seq",
  "provisioning_audit_id_seq",
];
/** Runs ANALYZE on the synced tables as their owner: ANALYZE needs ownership (before Postgres 17's MAINTAIN). */
const ANALYZE_FUNCTION = "analyze_synced_tables";

const ident = (name: string) => sql.id(name);

/**
 * Creates the roles (when missing) and grants each its privileges in this database; hands the objects to the
 * owner role when the migrating user may. Idempotent, and safe while other databases on the server migrate at
 * the same moment: a role created concurrently by another migration counts as created. Every later migration
 * that adds a table calls it again after adding the table to TABLE_PRIVILEGES.
 */
export async function grantRoles(db: Kysely<unknown>): Promise<void> {
  for (const role of Object.values(DB_ROLES)) {
    // CREATE ROLE has no IF NOT EXISTS; two databases migrating at once race on pg_authid's unique index.
    await sql`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${sql.lit(role)}) THEN
          CREATE ROLE ${ident(role)} NOLOGIN;
        END IF;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END $$`.execute(db);
  }
  await sql`
    CREATE OR REPLACE FUNCTION ${ident(ANALYZE_FUNCTION)}() RETURNS void
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
      BEGIN ANALYZE resources, entitlements, grants; END $$`.execute(db);
  await sql`REVOKE ALL ON FUNCTION ${ident(ANALYZE_FUNCTION)}() FROM PUBLIC`.execute(db);
  // Postgres before 15 lets every role create tables in public; a service role must not.
  await sql`REVOKE CREATE ON SCHEMA public FROM PUBLIC`.execute(db);
  // A table a later migration adds is granted by that migration's call: on a fresh database this one runs
  // before the table exists.
  const present = await sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'p', 'S')`.execute(db);
  const exists = new Set(present.rows.map((r) => r.name));
  const all = new Set<string>();
  for (const [key, tables] of Object.entries(TABLE_PRIVILEGES)) {
    const role = ident(DB_ROLES[key as ServiceRole]);
    await sql`GRANT USAGE ON SCHEMA public TO ${role}`.execute(db);
    for (const [table, privileges] of Object.entries(tables)) {
      if (!exists.has(table)) continue;
      all.add(table);
      await sql`REVOKE ALL ON ${ident(table)} FROM ${role}`.execute(db);
      await sql`GRANT ${sql.raw(privileges.join(", "))} ON ${ident(table)} TO ${role}`.execute(db);
    }
    if (key === "readonly") continue;
    for (const seq of SEQUENCES.filter((x) => exists.has(x)))
      await sql`GRANT USAGE ON SEQUENCE ${ident(seq)} TO ${role}`.execute(db);
    await sql`GRANT EXECUTE ON FUNCTION ${ident(ANALYZE_FUNCTION)}() TO ${role}`.execute(db);
  }
  await transferOwnership(
    db,
    [...all],
    SEQUENCES.filter((x) => exists.has(x)),
  );
}

/**
 * Objects belong to the owner role, not to whichever login user ran the migration, so another member can run the
 * next one. Skipped (objects stay the migrating user's) when that user is not a member of the owner role.
 */
async function transferOwnership(db: Kysely<unknown>, tables: string[], sequences: string[]): Promise<void> {
  const owner = DB_ROLES.owner;
  const member = await sql<{
    ok: boolean;
  }>`SELECT pg_has_role(current_user, ${owner}, 'MEMBER') AS ok`.execute(db);
  if (!member.rows[0]?.ok) return;
  const views = await sql<{ name: string }>`
    SELECT viewname AS name FROM pg_views WHERE schemaname = 'public'`.execute(db);
  const isView = new Set(views.rows.map((v) => v.name));
  for (const t of tables) {
    const kind = sql.raw(isView.has(t) ? "VIEW" : "TABLE");
    await sql`ALTER ${kind} ${ident(t)} OWNER TO ${ident(owner)}`.execute(db);
  }
  // A bigserial's sequence follows its table; a free-standing one is moved on its own.
  for (const s of sequences.filter((x) => !x.endsWith("_seq")))
    await sql`ALTER SEQUENCE ${ident(s)} OWNER TO ${ident(owner)}`.execute(db);
  await sql`ALTER FUNCTION ${ident(ANALYZE_FUNCTION)}() OWNER TO ${ident(owner)}`.execute(db);
}

/** Whether the connection's user is a superuser: services log a warning at start-up when it is. */
export async function connectedAsSuperuser<DB>(db: Kysely<DB>): Promise<boolean> {
  const r = await sql<{ su: string }>`SELECT current_setting('is_superuser') AS su`.execute(db);
  return r.rows[0]?.su === "on";
}
