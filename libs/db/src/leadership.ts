import pg from "pg";
import type { Logger } from "@grantline/log";

export interface LeadershipOptions {
  /** The database whose advisory lock decides; a dedicated session is opened on it, outside any pool. */
  url: string;
  /** The advisory lock key: one per role that needs a single leader. */
  key: number;
  /** How often a standby tries for the lock, and a leader checks its session is alive. */
  retryMs: number;
  logger: Logger;
  /** Shown in pg_stat_activity. @default "grantline-leader" */
  applicationName?: string;
}

export interface Leadership {
  isLeader(): boolean;
  /** Gives up the lock (by ending the session) and stops trying. */
  stop(): Promise<void>;
}

/**
 * Leadership by a session-level Postgres advisory lock on a dedicated connection: the lock lives exactly as long
 * as the session, so a crashed leader's lock is released by Postgres and a standby takes over on its next try.
 * A brief double leader (network partition) is harmless: runs are unique per source in the database and all
 * publishes are deduplicated.
 */
export function startLeadership(o: LeadershipOptions): Leadership {
  let client: pg.Client | null = null;
  let leader = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const drop = () => {
    if (leader) o.logger.warn("lost leadership");
    leader = false;
    const c = client;
    client = null;
    c?.end().catch(() => undefined);
  };

  const attempt = async () => {
    try {
      if (!client) {
        const c = new pg.Client({
          connectionString: o.url,
          application_name: o.applicationName ?? "grantline-leader",
        });
        c.on("error", drop);
        await c.connect();
        // stop() ran while this session was connecting and could not end it; holding it could hold the lock.
        if (stopped) {
          await c.end();
          return;
        }
        client = c;
      }
      if (!leader) {
        const r = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1) AS ok", [o.key]);
        if (r.rows[0]?.ok) {
          leader = true;
          o.logger.info("became leader");
        }
      } else {
        await client.query("SELECT 1");
      }
    } catch (err) {
      o.logger.warn({ err }, "leadership check failed");
      drop();
    }
    if (!stopped) timer = setTimeout(() => void attempt(), o.retryMs);
  };
  void attempt();

  return {
    isLeader: () => leader,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      const c = client;
      client = null;
      leader = false;
      await c?.end().catch(() => undefined);
    },
  };
}
