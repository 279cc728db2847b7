import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The openssl binary the TLS tests make their certificates with, or undefined where there is none. */
export const OPENSSL_BINARY = ["/usr/bin/openssl", "/usr/local/bin/openssl"].find((p) => existsSync(p));

/** PEM files in the directory `makeTestCertificates` wrote. */
export interface TestCertificates {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/**
 * A CA made for one test and, signed by it, a server certificate (for 127.0.0.1 and localhost unless `serverSan`
 * says otherwise) and a client certificate whose CN is `clientCn` (Postgres maps it to the login user), valid for
 * a day, written into `dir`. Needs openssl (`OPENSSL_BINARY`).
 */
export function makeTestCertificates(
  dir: string,
  o: { serverSan?: string; clientCn?: string } = {},
): TestCertificates {
  if (!OPENSSL_BINARY) throw new Error("makeTestCertificates needs openssl");
  const ssl = (...args: string[]) => execFileSync(OPENSSL_BINARY, args, { cwd: dir, stdio: "pipe" });
  const key = ["-newkey", "rsa:2048", "-nodes"];
  ssl(
    "req",
    "-x509",
    ...key,
    "-days",
    "1",
    "-subj",
    "/CN=grantline test CA",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
  );
  for (const [name, cn, san] of [
    ["server", "server", o.serverSan ?? "IP:127.0.0.1,DNS:localhost"],
    ["client", o.clientCn ?? "client", "DNS:grantline-client"],
  ] as const) {
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
    ssl("req", ...key, "-subj", `/CN=${cn}`, "-keyout", `${name}.key`, "-out", `${name}.csr`);
    const sign = ["-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1"];
    ssl("x509", "-req", "-in", `${name}.csr`, ...sign, "-out", `${name}.pem`, "-extfile", `${name}.ext`);
  }
  const f = (name: string) => join(dir, name);
  return {
    ca: f("ca.pem"),
    serverCert: f("server.pem"),
    serverKey: f("server.key"),
    clientCert: f("client.pem"),
    clientKey: f("client.key"),
  };
}
