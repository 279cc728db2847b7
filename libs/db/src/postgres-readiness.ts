import { sql } from "kysely";
import type { Db } from "./create-db.ts";

/**
 * A readiness check for a probe server (`/readyz`): resolves once the pool can run a query. It takes no signal
 * because pg cannot cancel a query by one; the probe server stops waiting at its own timeout.
 */
export function postgresReadiness(db: Db): { name: string; check: () => Promise<void> } {
  return {
    name: "postgres",
    async check() {
      await sql`SELECT 1`.execute(db);
    },
  };
}
