import pg from "pg";
import type { Logger } from "@grantline/log";
import { connectionConfig, type CreateDbOptions } from "./create-db.ts";

export interface LeadershipOptions {
  /** The database whose advisory lock decides; a dedicated session is opened on it, outside any pool. */
  url: string;
  /** As createDb's: the password file and TLS files of the service's other connections. */
  passwordFile?: CreateDbOptions["passwordFile"];
  tls?: CreateDbOptions["tls"];
  /** The advisory lock key: one per role that needs a single leader. */
  key: number;
  /** How often a standby tries for the lock, and a leader checks its session is alive. */
  retryMs: number;
  logger: Logger;
  /** Shown in pg_stat_activity. @default "grantline-leader" */
  applicationName?: string;
  /**
   * How long the leader's liveness query may take before it steps down (the connection may be half-open: a
   * partition sends no reset). @default 2000
   */
  checkTimeoutMs?: number;
}

/**
 * How often a leader proves its session alive, whatever `retryMs` is: the server ends a leader session idle for
 * longer than `leaderSessionTimeoutMs` (releasing the lock for a standby), so the leader must speak more often.
 */
const LEADER_PING_MS = 1000;

/**
 * The bounds of a failover when the leader is cut off from Postgres (documented in docs/operating.md):
 * the leader steps down after at most `stepDownMs` without a successful check; Postgres ends the leader's
 * session — and with it the lock — after `sessionTimeoutMs` without a query from it; a standby holds the lock
 * at most `retryMs` after that. `sessionTimeoutMs` > `stepDownMs`, so the old leader has stepped down before
 * anyone else can lead.
 */
export function leadershipBounds(o: { retryMs: number; checkTimeoutMs?: number }): {
  stepDownMs: number;
  sessionTimeoutMs: number;
  takeoverMs: number;
} {
  const check = o.checkTimeoutMs ?? 2000;
  const ping = Math.min(o.retryMs, LEADER_PING_MS);
  const stepDownMs = ping + check;
  const sessionTimeoutMs = stepDownMs + 2000;
  return { stepDownMs, sessionTimeoutMs, takeoverMs: sessionTimeoutMs + o.retryMs };
}

export interface Leadership {
  isLeader(): boolean;
  /** Gives up the lock (by ending the session) and stops trying. */
  stop(): Promise<void>;
}

/**
 * Leadership by a session-level Postgres advisory lock on a dedicated connection: the lock lives exactly as long
 * as the session, so a crashed leader's lock is released by Postgres and a standby takes over on its next try.
 *
 * A leader cut off from Postgres (a half-open connection: no reset ever arrives) must neither keep leading nor
 * keep the lock until TCP keepalive notices, hours later. So the leader pings every second with a client-side
 * timeout and steps down when a ping fails or hangs; and its session carries `idle_session_timeout`, so
 * Postgres ends it — releasing the lock — once the pings stop arriving (`leadershipBounds`). A brief double
 * leader would still be harmless (runs are unique per source in the database, publishes deduplicated).
 */
export function startLeadership(o: LeadershipOptions): Leadership {
  const bounds = leadershipBounds(o);
  const checkTimeoutMs = o.checkTimeoutMs ?? 2000;
  let client: pg.Client | null = null;
  let leader = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const drop = (reason?: unknown) => {
    if (leader) o.logger.warn({ err: reason }, "lost leadership; stepping down");
    leader = false;
    const c = client;
    client = null;
    // end() waits for the server's goodbye, which a partitioned socket never brings: cut it too.
    c?.end().catch(() => undefined);
    (c as unknown as { connection?: { stream?: { destroy(): void } } } | null)?.connection?.stream?.destroy();
  };

  const attempt = async () => {
    try {
      if (!client) {
        const c = new pg.Client({
          ...connectionConfig(o),
          application_name: o.applicationName ?? "grantline-leader",
          // A query the server never answers (partition) fails here instead of hanging the leader's loop.
          query_timeout: checkTimeoutMs,
          connectionTimeoutMillis: checkTimeoutMs * 2,
          keepAlive: true,
          keepAliveInitialDelayMillis: 1000,
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
          // From now on Postgres itself ends this session if the leader goes quiet (see leadershipBounds).
          await client.query(`SET idle_session_timeout = ${bounds.sessionTimeoutMs}`);
          leader = true;
          o.logger.info({ failover: bounds }, "became leader");
        }
      } else {
        await client.query("SELECT 1");
      }
    } catch (err) {
      if (leader) drop(err);
      else {
        o.logger.warn({ err }, "leadership check failed");
        drop();
      }
    }
    if (!stopped)
      timer = setTimeout(() => void attempt(), leader ? Math.min(o.retryMs, LEADER_PING_MS) : o.retryMs);
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
