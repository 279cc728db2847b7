import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, waitFor } from "@grantline/testing";
import { closeRedis } from "./close-redis.ts";
import { createRedis } from "./create-redis.ts";

// REDIS_TLS_*: a redis-server of this test's own, serving TLS only with a certificate from a CA the test makes,
// and requiring client certificates from that CA (the shared test Redis has no TLS).

const dir = mkdtempSync(join(tmpdir(), "gl-redis-tls-"));
const file = (name: string) => join(dir, name);
let server: ChildProcess | undefined;
let port = 0;

function openssl(...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
}

/** A key and a certificate for `cn` signed by the test CA (with 127.0.0.1 as its address). */
function issue(name: string, cn: string): void {
  openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-subj",
    `/CN=${cn}`,
    "-out",
    `${name}.csr`,
  );
  writeFileSync(file(`${name}.ext`), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  openssl(
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.crt`,
  );
}

beforeAll(async () => {
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-subj",
    "/CN=grantline test CA",
    "-days",
    "1",
    "-out",
    "ca.crt",
  );
  issue("server", "127.0.0.1");
  issue("client", "grantline-fetcher");
  port = await freePort();
  server = spawn(
    "redis-server",
    [
      "--port",
      "0",
      "--tls-port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--tls-cert-file",
      file("server.crt"),
      "--tls-key-file",
      file("server.key"),
      "--tls-ca-cert-file",
      file("ca.crt"),
      "--tls-auth-clients",
      "yes",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
    ],
    { stdio: "ignore" },
  );
  await waitFor(async () => {
    const probe = createRedis({
      url: `rediss://127.0.0.1:${port}`,
      maxRetriesPerRequest: 0,
      tls: tlsFiles(),
    });
    try {
      return (await probe.ping()) === "PONG";
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  });
});
afterAll(() => {
  server?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

const tlsFiles = () => ({
  caFile: file("ca.crt"),
  certFile: file("client.crt"),
  keyFile: file("client.key"),
});

describe("createRedis over TLS (REDIS_TLS_CA_FILE, REDIS_TLS_CERT_FILE, REDIS_TLS_KEY_FILE)", () => {
  it("verifies the server against the CA and presents the client certificate", async () => {
    const redis = createRedis({ url: `redis://127.0.0.1:${port}`, tls: tlsFiles(), keyPrefix: "t:" });
    try {
      await redis.set("k", "v");
      expect(await redis.get("k")).toBe("v");
    } finally {
      await closeRedis(redis);
    }
  });

  it("fails without the client certificate, and against a server its CA did not sign", async () => {
    const noClientCert = createRedis({
      url: `rediss://127.0.0.1:${port}`,
      tls: { caFile: file("ca.crt") },
      maxRetriesPerRequest: 0,
    });
    // The system CAs (rediss:// alone) do not know the test CA.
    const unknownCa = createRedis({ url: `rediss://127.0.0.1:${port}`, maxRetriesPerRequest: 0 });
    try {
      await expect(noClientCert.ping()).rejects.toThrow();
      await expect(unknownCa.ping()).rejects.toThrow();
    } finally {
      noClientCert.disconnect();
      unknownCa.disconnect();
    }
  });
});
