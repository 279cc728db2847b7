import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { natsAuth, NatsAuthError } from "./nats-auth.ts";

const dir = mkdtempSync(join(tmpdir(), "gl-auth-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("natsAuth", () => {
  it("is anonymous without credentials (a server without authorization)", () => {
    expect(natsAuth({})).toEqual({ user: null, authenticated: false, options: {} });
  });

  it("reads a password file at every connect, without its trailing newline (rotation needs no restart)", async () => {
    const file = join(dir, "password");
    writeFileSync(file, "first\n");
    const auth = natsAuth({ NATS_USER: "fetcher", NATS_PASSWORD_FILE: file });
    expect(auth).toMatchObject({ user: "fetcher", authenticated: true });
    const authenticator = auth.options.authenticator as unknown as (
      nonce?: string,
    ) => Record<string, unknown>;
    expect(authenticator()).toEqual({ user: "fetcher", pass: "first" });
    writeFileSync(file, "second\n");
    expect(authenticator()).toEqual({ user: "fetcher", pass: "second" });
  });

  it("refuses settings that cannot work together, naming the variables", () => {
    const f = join(dir, "x");
    writeFileSync(f, "x");
    expect(() => natsAuth({ NATS_PASSWORD: "p" })).toThrow(/^NATS_USER: required with a NATS password$/);
    expect(() => natsAuth({ NATS_USER: "u", NATS_PASSWORD: "p", NATS_PASSWORD_FILE: f })).toThrow(
      /NATS_PASSWORD and NATS_PASSWORD_FILE/,
    );
    expect(() => natsAuth({ NATS_USER: "u", NATS_PASSWORD: "p", NATS_CREDS_FILE: f })).toThrow(
      /set one of a password, NATS_CREDS_FILE, not several/,
    );
    expect(() => natsAuth({ NATS_TLS_CERT_FILE: f })).toThrow(/a client certificate needs both/);
  });

  it("stops at start-up on a secret file that cannot be read, naming its variable", () => {
    expect(() => natsAuth({ NATS_USER: "u", NATS_PASSWORD_FILE: join(dir, "missing") })).toThrow(
      NatsAuthError,
    );
    expect(() => natsAuth({ NATS_CREDS_FILE: join(dir, "missing") })).toThrow(
      /^NATS_CREDS_FILE: cannot read /,
    );
    expect(() => natsAuth({ NATS_NKEY_SEED_FILE: join(dir, "missing") })).toThrow(
      /^NATS_NKEY_SEED_FILE: cannot read /,
    );
  });
});
