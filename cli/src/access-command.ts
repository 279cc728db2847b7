import type { CliConfig } from "@grantline/config";
import {
  accessOfPrincipal,
  accessToAccount,
  AccessQueryTimeout,
  createDb,
  dbOptions,
  DEFAULT_ACCESS_TIMEOUT_MS,
  explainAccess,
  matchPrincipals,
  roleAssumers,
  type AccessOptions,
  type Db,
} from "@grantline/db";
import { ofText, pathsJson, pathsText, whoText } from "./access-format.ts";
import { UsageError } from "./usage-error.ts";

/** A query cancelled by its statement timeout: distinct from failures (1) and usage errors (2), for scripts. */
export const EXIT_TIMEOUT = 3;

export interface AccessFlags {
  json?: boolean;
  timeout?: string;
  "include-inactive"?: boolean;
}

const ACCOUNT_ID = /^\d{12}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/\S+$/;

function accountId(sub: string, value: string | undefined): string {
  if (!value) throw new UsageError(`access ${sub} needs <accountId>, a 12-digit AWS account id`);
  if (!ACCOUNT_ID.test(value))
    throw new UsageError(`access ${sub}: <accountId> must be a 12-digit AWS account id, not "${value}"`);
  return value;
}

function roleArn(sub: string, value: string | undefined): string {
  if (!value)
    throw new UsageError(`access ${sub} needs <roleArn>, e.g. arn:aws:iam::123456789012:role/Admin`);
  if (!ROLE_ARN.test(value))
    throw new UsageError(
      `access ${sub}: <roleArn> must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), not "${value}"`,
    );
  return value;
}

function target(value: string | undefined): string {
  if (value && (ACCOUNT_ID.test(value) || ROLE_ARN.test(value))) return value;
  throw new UsageError(
    value
      ? `access explain: <accountId|roleArn> must be a 12-digit account id or an IAM role ARN, not "${value}"`
      : "access explain needs <principal> <accountId|roleArn>",
  );
}

function principal(sub: string, value: string | undefined): string {
  if (!value?.trim())
    throw new UsageError(`access ${sub} needs <principal>: an id (user or group id, IAM ARN) or a name`);
  return value;
}

function timeoutMs(value: string | undefined): number {
  if (value === undefined) return DEFAULT_ACCESS_TIMEOUT_MS;
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new UsageError(`--timeout must be a whole number of milliseconds ≥ 1, not "${value}"`);
  return Number(value);
}

/** The principal's own id, plus every synced user, group or role the argument names. */
async function principalIds(db: Db, idOrName: string, o: AccessOptions): Promise<string[]> {
  const matches = await matchPrincipals(db, idOrName, o);
  return [...new Set([idOrName, ...matches.map((m) => m.principal_id)])];
}

function timeoutMessage(err: AccessQueryTimeout): string {
  return [
    `grantline: ${err.question} timed out: Postgres cancelled it after the ${err.timeoutMs} ms statement timeout.`,
    "  Right after a large sync the planner's statistics can be stale and pick a slow plan; running ANALYZE",
    "  (or waiting for autovacuum or the next sync to refresh them) usually fixes it.",
    `  To allow more time: --timeout <ms> (now ${err.timeoutMs}), e.g. --timeout ${err.timeoutMs * 6}.`,
    "",
  ].join("\n");
}

type Print = (value: unknown, text: () => string) => void;

/** The question the arguments ask, validated before connecting: a typo should not wait on the database. */
function question(args: string[], o: AccessOptions, print: Print): (db: Db) => Promise<void> {
  const [sub, a, b] = args;
  switch (sub) {
    case "who": {
      const id = accountId(sub, a);
      return async (db) => {
        const r = await accessToAccount(db, id, o);
        print(r, () => whoText(id, r));
      };
    }
    case "of": {
      const p = principal(sub, a);
      return async (db) => {
        const r = await accessOfPrincipal(db, await principalIds(db, p, o), o);
        print(r, () => ofText(p, r));
      };
    }
    case "can-assume": {
      const arn = roleArn(sub, a);
      return async (db) => {
        const r = await roleAssumers(db, arn, o);
        print(pathsJson(r), () => pathsText(`nobody can assume ${arn}`, r));
      };
    }
    case "explain": {
      const p = principal(sub, a);
      const t = target(b);
      return async (db) => {
        const r = await explainAccess(db, await principalIds(db, p, o), t, o);
        print(pathsJson(r), () => pathsText(`no path from ${p} to ${t}`, r));
      };
    }
    default:
      throw new UsageError(`unknown access question: ${sub ?? "(none)"} (who, of, can-assume, explain)`);
  }
}

/** `grantline access who|of|can-assume|explain …` (args after `access`); returns the exit code. */
export async function runAccess(
  args: string[],
  flags: AccessFlags,
  config: CliConfig,
  print: Print,
): Promise<number> {
  const o: AccessOptions = {
    timeoutMs: timeoutMs(flags.timeout),
    includeInactive: flags["include-inactive"],
  };
  const ask = question(args, o, print);
  const db = createDb({ ...dbOptions(config), poolSize: 1, applicationName: "grantline-cli" });
  try {
    await ask(db);
    return 0;
  } catch (err) {
    if (!(err instanceof AccessQueryTimeout)) throw err;
    process.stderr.write(timeoutMessage(err));
    return EXIT_TIMEOUT;
  } finally {
    await db.destroy();
  }
}
