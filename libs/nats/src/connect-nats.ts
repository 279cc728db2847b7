import { connect, type NatsConnection } from "@nats-io/transport-node";
import { AuthorizationError, PermissionViolationError } from "@nats-io/nats-core";
import type { Logger } from "@grantline/log";
import type { NatsAuth } from "./nats-auth.ts";

export interface ConnectNatsOptions {
  /** Comma-separated server URLs. */
  servers: string;
  /** Connection name shown in `nats server report connections`. */
  name: string;
  logger: Logger;
  /** Told about every failed first attempt (the probe server's readiness shows it). */
  onWaiting?: (reason: string) => void;
  /** Stops waiting for a first connection (shutdown during start-up). */
  signal?: AbortSignal;
  /** Credentials and TLS (`natsAuth`); without them the connection is anonymous. */
  auth?: NatsAuth;
  /** Prefix of this connection's reply inboxes: each grantline user may subscribe only to its own. */
  inboxPrefix?: string;
  /**
   * While this returns true, a refused operation is not logged here: start-up reports its own failure as the
   * one line it stops with. After start-up each refusal is an error line naming the subject.
   */
  starting?: () => boolean;
}

/** Thrown when the server refuses the credentials: waiting would not help, so start-up stops at once. */
export class NatsCredentialsError extends Error {
  constructor(message: string, opts?: ErrorOptions) {
    super(message, opts);
    this.name = "NatsCredentialsError";
  }
}

/** Server list for logs: credentials in a URL are masked. */
function shown(servers: string): string {
  return servers.replace(/\/\/[^@/,]*@/g, "//***@");
}

/**
 * Connects, waiting as long as it takes for a first connection — and saying so: every failed attempt reaches
 * `onWaiting`, and the log gets a line at once and then every 15 s (the client's own `waitOnFirstConnect`
 * waits silently, so a service whose NATS is down looked hung with empty logs). Once connected it reconnects
 * forever: the client's default gives up after 10 attempts and closes the connection for good, which would
 * leave a healthy-looking process that does nothing after a NATS restart.
 */
export async function connectNats(opts: ConnectNatsOptions): Promise<NatsConnection> {
  const servers = opts.servers.split(",").map((s) => s.trim());
  let attempt = 0;
  let lastLogged = 0;
  let nc: NatsConnection | undefined;
  while (nc === undefined) {
    attempt++;
    try {
      nc = await connect({
        servers,
        name: opts.name,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1000,
        timeout: 5000,
        // While credentials rotate, the server may refuse a reconnect or two (its new password before the
        // service's file has it): keep trying. The client's default gives up after two refusals, for good.
        ignoreAuthErrorAbort: true,
        // Otherwise every request — each JetStream publish is one — captures a stack trace up front for the
        // error it might become: ~5 % of the mapper's CPU in the benchmark's profile. The errors keep their
        // message, and publishJson names the subject.
        noAsyncTraces: true,
        ...opts.auth?.options,
        ...(opts.inboxPrefix ? { inboxPrefix: opts.inboxPrefix } : {}),
      });
    } catch (err) {
      if (err instanceof AuthorizationError || /authoriz|authenticat/i.test((err as Error).message)) {
        const who = opts.auth?.user
          ? `user "${opts.auth.user}"`
          : opts.auth?.authenticated
            ? "its credentials"
            : "an anonymous connection";
        throw new NatsCredentialsError(
          `NATS at ${shown(opts.servers)} refused ${who}: ${(err as Error).message} (check NATS_USER and NATS_PASSWORD[_FILE], NATS_CREDS_FILE or NATS_NKEY_SEED_FILE)`,
          { cause: err },
        );
      }
      const reason = `waiting for NATS at ${shown(opts.servers)}: ${(err as Error).message}`;
      opts.onWaiting?.(reason);
      if (attempt === 1 || Date.now() - lastLogged >= 15_000) {
        opts.logger.warn({ attempt, servers: shown(opts.servers), err: (err as Error).message }, reason);
        lastLogged = Date.now();
      }
      if (opts.signal?.aborted) throw new Error(`gave up ${reason}`, { cause: err });
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  if (attempt > 1) opts.logger.info({ attempt, servers: shown(opts.servers) }, "connected to NATS");
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "error" && s.error instanceof PermissionViolationError) {
        if (!opts.starting?.())
          opts.logger.error(
            { nats: "permission", operation: s.error.operation, subject: s.error.subject },
            `NATS refused to let ${opts.auth?.user ? `user "${opts.auth.user}"` : "this connection"} ${s.error.operation === "subscription" ? "subscribe to" : "publish to"} "${s.error.subject}"`,
          );
      } else if (s.type === "disconnect" || s.type === "reconnect" || s.type === "error") {
        opts.logger.warn({ nats: s.type, server: "server" in s ? s.server : undefined }, `nats ${s.type}`);
      }
    }
  })();
  return nc;
}
