import { parseArgs } from "node:util";
import { ConfigError, loadCliConfig } from "@grantline/config";
import { runCommand, USAGE } from "./commands.ts";
import { UsageError } from "./usage-error.ts";

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      wait: { type: "boolean", default: false },
      source: { type: "string" },
      type: { type: "string" },
      "from-start": { type: "boolean", default: false },
      limit: { type: "string" },
      timeout: { type: "string" },
      "include-inactive": { type: "boolean", default: false },
      for: { type: "string" },
      reason: { type: "string" },
      id: { type: "string" },
      "dry-run": { type: "boolean", default: false },
      holder: { type: "string" },
      "wait-for": { type: "string" },
      "no-wait": { type: "boolean", default: false },
      all: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help || positionals.length === 0) {
    process.stdout.write(USAGE);
    return 0;
  }
  const config = loadCliConfig(process.env);
  return runCommand(positionals, values, config);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Friendly errors: one line, no stack, for everything the user can fix.
    if (err instanceof UsageError) process.stderr.write(`grantline: ${err.message}\n\n${USAGE}`);
    else if (err instanceof ConfigError) process.stderr.write(`grantline: ${err.message}\n`);
    else if (
      err instanceof Error &&
      /ECONNREFUSED|CONNECTION_REFUSED/.test(`${err.message} ${String((err as { code?: string }).code)}`)
    )
      process.stderr.write(
        `grantline: cannot connect: ${err.message}. Are NATS and Postgres running (NATS_URL, DATABASE_URL)?\n`,
      );
    else process.stderr.write(`grantline: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof UsageError || err instanceof ConfigError ? 2 : 1);
  },
);
