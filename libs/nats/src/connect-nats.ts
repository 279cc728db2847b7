import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "@grantline/log";

export interface ConnectNatsOptions {
  /** Comma-separated server URLs. */
  servers: string;
  /** Connection name shown in `nats server report connections`. */
  name: string;
  logger: Logger;
}

/**
 * Connects and keeps reconnecting forever: the client's default gives up after 10 attempts and closes the
 * connection for good, which would leave a healthy-looking process that does nothing after a NATS restart.
 */
export async function connectNats(opts: ConnectNatsOptions): Promise<NatsConnection> {
  const nc = await connect({
    servers: opts.servers.split(",").map((s) => s.trim()),
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    waitOnFirstConnect: true,
  });
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect" || s.type === "reconnect" || s.type === "error") {
        opts.logger.warn({ nats: s.type, server: "server" in s ? s.server : undefined }, `nats ${s.type}`);
      }
    }
  })();
  return nc;
}
