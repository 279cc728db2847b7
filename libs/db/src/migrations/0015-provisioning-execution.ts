import { sql, type Kysely } from "kysely";

// Carrying provisioning requests out (docs/provisioning.md). `exec_attempt` numbers the executions published to
// the fetcher (the message id is the call and its attempt) and `exec_at` dates the last one, so the leader can
// re-publish an execution whose answer never came. `aws_done_at` is when AWS confirmed the change: from then on
// the request waits for a targeted re-read to show it (`confirm_reads` counts the re-reads that did not).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE provisioning_requests
      ADD COLUMN exec_attempt integer NOT NULL DEFAULT 0,
      ADD COLUMN exec_at timestamptz,
      ADD COLUMN aws_done_at timestamptz,
      ADD COLUMN confirm_reads integer NOT NULL DEFAULT 0`.execute(db);
  await sql`
    CREATE INDEX provisioning_requests_executing ON provisioning_requests (source_id, exec_at)
     WHERE state = 'executing'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX provisioning_requests_executing`.execute(db);
  await sql`
    ALTER TABLE provisioning_requests
      DROP COLUMN exec_attempt, DROP COLUMN exec_at, DROP COLUMN aws_done_at, DROP COLUMN confirm_reads`.execute(
    db,
  );
}
