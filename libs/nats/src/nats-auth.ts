import { readFileSync } from "node:fs";
import {
  credsAuthenticator,
  nkeyAuthenticator,
  usernamePasswordAuthenticator,
  type ConnectionOptions,
} from "@nats-io/nats-core";

/** NATS credentials and TLS settings (`NatsAuthEnv` of `@grantline/config`); all optional. */
export interface NatsAuthSettings {
  NATS_USER?: string | undefined;
  NATS_PASSWORD?: string | undefined;
  NATS_PASSWORD_FILE?: string | undefined;
  NATS_CREDS_FILE?: string | undefined;
  NATS_NKEY_SEED_FILE?: string | undefined;
  NATS_TLS_CA_FILE?: string | undefined;
  NATS_TLS_CERT_FILE?: string | undefined;
  NATS_TLS_KEY_FILE?: string | undefined;
}

/** Thrown for credentials that cannot work together or cannot be read; the message names the variable. */
export class NatsAuthError extends Error {
  constructor(message: string, opts?: ErrorOptions) {
    super(message, opts);
    this.name = "NatsAuthError";
  }
}

/** What to add to the connection: who we are (for logs, control requests and the inbox) and how we prove it. */
export interface NatsAuth {
  /** NATS_USER, if set. */
  user: string | null;
  /** Whether any credentials are configured (false: anonymous, as on a server without authorization). */
  authenticated: boolean;
  options: Pick<ConnectionOptions, "authenticator" | "tls">;
}

function reader(variable: string, path: string, what: (text: string) => string = (t) => t) {
  // A function, read at every (re)connect: a rotated secret file is picked up at the next reconnect.
  return () => {
    try {
      return what(readFileSync(path, "utf8"));
    } catch (err) {
      throw new NatsAuthError(`${variable}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
    }
  };
}

/**
 * The authentication and TLS options of `s`: user/password (NATS_PASSWORD or NATS_PASSWORD_FILE), a JWT creds
 * file (NATS_CREDS_FILE, the operator/JWT mode of multi-tenant clusters) or an nkey seed (NATS_NKEY_SEED_FILE);
 * none of them → anonymous, as on a server without authorization. Files are read now, so a missing file stops
 * start-up with the variable's name, and again at each reconnect, so rotating a file needs no restart.
 */
export function natsAuth(s: NatsAuthSettings): NatsAuth {
  const password = s.NATS_PASSWORD !== undefined || s.NATS_PASSWORD_FILE !== undefined;
  const modes = [
    password && "a password",
    s.NATS_CREDS_FILE && "NATS_CREDS_FILE",
    s.NATS_NKEY_SEED_FILE && "NATS_NKEY_SEED_FILE",
  ];
  const chosen = modes.filter(Boolean);
  if (chosen.length > 1)
    throw new NatsAuthError(`NATS credentials: set one of ${chosen.join(", ")}, not several`);
  if (s.NATS_PASSWORD !== undefined && s.NATS_PASSWORD_FILE !== undefined)
    throw new NatsAuthError("NATS_PASSWORD and NATS_PASSWORD_FILE: set one, not both");
  if (password && s.NATS_USER === undefined)
    throw new NatsAuthError("NATS_USER: required with a NATS password");
  if ((s.NATS_TLS_CERT_FILE === undefined) !== (s.NATS_TLS_KEY_FILE === undefined))
    throw new NatsAuthError("NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE: a client certificate needs both");

  let authenticator: ConnectionOptions["authenticator"];
  if (password) {
    const pass =
      s.NATS_PASSWORD_FILE !== undefined
        ? reader("NATS_PASSWORD_FILE", s.NATS_PASSWORD_FILE, (t) => t.replace(/\r?\n$/, ""))
        : () => s.NATS_PASSWORD as string;
    pass();
    authenticator = usernamePasswordAuthenticator(s.NATS_USER as string, pass);
  } else if (s.NATS_CREDS_FILE !== undefined) {
    const creds = reader("NATS_CREDS_FILE", s.NATS_CREDS_FILE);
    creds();
    authenticator = credsAuthenticator(() => new TextEncoder().encode(creds()));
  } else if (s.NATS_NKEY_SEED_FILE !== undefined) {
    const seed = reader("NATS_NKEY_SEED_FILE", s.NATS_NKEY_SEED_FILE, (t) => t.trim());
    seed();
    authenticator = nkeyAuthenticator(() => new TextEncoder().encode(seed()));
  }
  for (const [variable, path] of [
    ["NATS_TLS_CA_FILE", s.NATS_TLS_CA_FILE],
    ["NATS_TLS_CERT_FILE", s.NATS_TLS_CERT_FILE],
    ["NATS_TLS_KEY_FILE", s.NATS_TLS_KEY_FILE],
  ] as const)
    if (path !== undefined) reader(variable, path)();
  const tls =
    s.NATS_TLS_CA_FILE !== undefined || s.NATS_TLS_CERT_FILE !== undefined
      ? {
          ...(s.NATS_TLS_CA_FILE !== undefined ? { caFile: s.NATS_TLS_CA_FILE } : {}),
          ...(s.NATS_TLS_CERT_FILE !== undefined
            ? { certFile: s.NATS_TLS_CERT_FILE, keyFile: s.NATS_TLS_KEY_FILE }
            : {}),
        }
      : undefined;
  return {
    user: s.NATS_USER ?? null,
    authenticated: authenticator !== undefined,
    options: { ...(authenticator ? { authenticator } : {}), ...(tls ? { tls } : {}) },
  };
}
