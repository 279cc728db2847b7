import type { Db } from "./create-db.ts";

/** One answered control request (`ControlAuditEntry` of `@grantline/nats`, structurally). */
export interface ControlAuditRecord {
  user: string;
  verb: string;
  args: unknown;
  outcome: string;
}

/** Appends a control request to `control_audit` (append-only: the table refuses updates and deletes). */
export async function recordControlAudit(db: Db, r: ControlAuditRecord): Promise<void> {
  await db
    .insertInto("control_audit")
    .values({ user: r.user, verb: r.verb, args: JSON.stringify(r.args ?? null), outcome: r.outcome })
    .execute();
}
