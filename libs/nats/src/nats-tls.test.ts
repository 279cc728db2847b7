// NATS over TLS with a client certificate: a CA, a server and a client certificate made here with openssl,
// a nats-server started with them (verify: clients must present a certificate the CA signed), and the
// connection the services make from NATS_TLS_CA_FILE / NATS_TLS_CERT_FILE / NATS_TLS_KEY_FILE.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@grantline/log";
import {
  makeTestCertificates,
  NATS_SERVER_BINARY,
  OPENSSL_BINARY,
  startNatsServer,
  type TestNatsServer,
} from "@grantline/testing";
import { connectNats } from "./connect-nats.ts";
import { natsAuth, NatsAuthError } from "./nats-auth.ts";

const logger = createLogger({ service: "test", level: "silent" });
const runnable = existsSync(NATS_SERVER_BINARY) && OPENSSL_BINARY !== undefined;
if (!runnable) console.warn("skipped: the TLS test needs nats-server and openssl");

let certs: string;
let server: TestNatsServer | null = null;

beforeAll(async () => {
  if (!runnable) return;
  certs = mkdtempSync(join(tmpdir(), "gl-tls-"));
  makeTestCertificates(certs);
  server = await startNatsServer({
    config: [
      "tls {",
      `  cert_file: ${JSON.stringify(join(certs, "server.pem"))}`,
      `  key_file: ${JSON.stringify(join(certs, "server.key"))}`,
      `  ca_file: ${JSON.stringify(join(certs, "ca.pem"))}`,
      "  verify: true",
      "}",
    ].join("\n"),
  });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  if (certs) rmSync(certs, { recursive: true, force: true });
});

describe.skipIf(!runnable)("NATS over TLS", () => {
  it("connects with the CA and a client certificate from files", async () => {
    const nc = await connectNats({
      servers: server!.url,
      name: "tls-test",
      logger,
      auth: natsAuth({
        NATS_TLS_CA_FILE: join(certs, "ca.pem"),
        NATS_TLS_CERT_FILE: join(certs, "client.pem"),
        NATS_TLS_KEY_FILE: join(certs, "client.key"),
      }),
    });
    try {
      expect(nc.info?.tls_required).toBe(true);
      await nc.flush();
    } finally {
      await nc.close();
    }
  });

  it("is refused without the client certificate the server verifies", async () => {
    const ac = new AbortController();
    ac.abort();
    const err = await connectNats({
      servers: server!.url,
      name: "tls-test",
      logger,
      signal: ac.signal,
      auth: natsAuth({ NATS_TLS_CA_FILE: join(certs, "ca.pem") }),
    }).catch((e: unknown) => e as Error);
    // The server drops the handshake; the client sees no connection (the test above shows the server is up).
    expect((err as Error).message).toMatch(/^gave up waiting for NATS at tls:\/\/127\.0\.0\.1:\d+: /);
  });

  it("names the variable of a certificate file that cannot be read", () => {
    expect(() => natsAuth({ NATS_TLS_CA_FILE: join(certs, "missing.pem") })).toThrow(NatsAuthError);
    expect(() => natsAuth({ NATS_TLS_CA_FILE: join(certs, "missing.pem") })).toThrow(
      /^NATS_TLS_CA_FILE: cannot read /,
    );
  });
});
