import { ConfigError } from "./config-error.ts";

/**
 * Runs a config loader; on `ConfigError` prints its one-line message to stderr and exits 2 — no stack trace,
 * nothing half-started. Other errors propagate.
 */
export function exitOnConfigError<T>(service: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${service}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
