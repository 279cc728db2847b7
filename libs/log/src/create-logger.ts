import { context, isSpanContextValid, trace } from "@opentelemetry/api";
import { pino } from "pino";
import type { DestinationStream, LevelWithSilent, Logger, LoggerOptions } from "pino";
import { REDACTED, redactUrl } from "./redact-url.ts";

export interface CreateLoggerOptions {
  /** Added to every line as `service`, so one query across all grantline services can tell them apart. */
  service: string;
  /** @default "info" */
  level?: LevelWithSilent;
  /**
   * Where lines go; tests pass an in-memory sink.
   * @default stdout (pino's synchronous destination)
   */
  destination?: DestinationStream;
}

/** Keys whose values are secrets wherever they appear in a logged object. */
const SECRET_KEYS = [
  "secretAccessKey",
  "SecretAccessKey",
  "sessionToken",
  "SessionToken",
  "externalId",
  "ExternalId",
  "password",
  "Password",
  "authorization",
  "Authorization",
  "cookie",
  "Cookie",
  "credentials",
  "Credentials",
  "accessToken",
  "AccessToken",
  "refreshToken",
  "RefreshToken",
  "idToken",
  "clientSecret",
  "privateKey",
  "apiKey",
] as const;

// Redaction paths cannot express "any depth"; four levels covers how services nest things
// (`{ req: { headers: { authorization } } }`, `{ account: { role: { externalId } } }`) without the
// cost of deeper wildcard expansion on every line.
const MAX_WILDCARD_DEPTH = 3;

function redactPaths(): string[] {
  const paths: string[] = [];
  for (let depth = 0; depth <= MAX_WILDCARD_DEPTH; depth++) {
    const prefix = "*.".repeat(depth);
    for (const key of SECRET_KEYS) paths.push(`${prefix}${key}`);
  }
  return paths;
}

/** The active span's trace and span ids, or nothing outside a span (or with tracing not set up). */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpanContext(context.active());
  if (!span || !isSpanContextValid(span)) return {};
  return { trace_id: span.traceId, span_id: span.spanId };
}

/**
 * Creates the service's root logger. Redaction is configured here once so no service has to remember it:
 * secret-named keys (AWS credentials, external IDs, passwords, tokens, authorization headers) are replaced by
 * `[redacted]` up to four levels deep, and passwords inside connection URLs are scrubbed from every serialized
 * line — messages, nested strings and `err.message`/`err.stack` alike.
 *
 * Per-message context goes on a child logger rather than into each call, so every line about one message
 * carries the same fields:
 *
 * @example
 * const logger = createLogger({ service: "fetcher", level: "debug" });
 * const log = logger.child({ subject: msg.subject, msgId: msg.info.streamSequence });
 * log.info({ accountId }, "fetching account");
 * log.error({ err }, "fetch failed");
 */
export function createLogger(opts: CreateLoggerOptions): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? "info",
    base: { service: opts.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      // Label strings survive any log pipeline; numeric levels need a lookup table downstream.
      level: (label) => ({ level: label }),
    },
    // Lines written while a trace span is active carry its ids, so one grep for a trace id finds what every
    // service logged about the same task (the consume loop and the scheduler open the spans).
    mixin: traceFields,
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    redact: { paths: redactPaths(), censor: REDACTED },
    hooks: {
      // URL scrubbing runs on the finished line rather than in `formatters.log`: that formatter runs before
      // serializers and never sees the message, so a password in `msg` or in an error's message/stack
      // (which pino copies into `msg` too) would slip past it. One pass here covers every field.
      streamWrite: redactUrl,
    },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
