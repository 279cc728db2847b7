/**
 * Structured JSON logging for grantline services, with secret redaction configured once.
 *
 * @example
 * import { createLogger, redactUrl } from "@grantline/log";
 *
 * const logger = createLogger({ service: "writer" });
 * logger.info({ databaseUrl: redactUrl(config.databaseUrl) }, "starting");
 * const log = logger.child({ subject: msg.subject, msgId: msg.seq });
 * log.warn({ err }, "write failed, will retry");
 */
export { createLogger } from "./create-logger.ts";
export type { CreateLoggerOptions } from "./create-logger.ts";
export { lazyChild } from "./lazy-child.ts";
export { redactUrl, REDACTED } from "./redact-url.ts";
export type { DestinationStream, Level, LevelWithSilent, Logger } from "pino";
