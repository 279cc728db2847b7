import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
} from "@opentelemetry/api";
import type { MsgHdrs } from "@nats-io/nats-core";
import { headers as natsHeaders } from "@nats-io/nats-core";

/**
 * W3C trace context over NATS headers (`traceparent`, `tracestate`). Only the OpenTelemetry API is used
 * here: without a registered SDK (tests of this library, a service with tracing off) every call is a cheap
 * no-op, and with one (`startTracing` in @grantline/observability) spans are real and exported.
 */
const TRACER_NAME = "grantline";

const headerGetter: TextMapGetter<MsgHdrs | undefined> = {
  keys: (h) => (h ? h.keys() : []),
  // MsgHdrs.get answers "" for a missing header; the propagator wants undefined.
  get: (h, key) => h?.get(key) || undefined,
};

/** The trace context a message carries in its headers; the root context when it carries none. */
export function extractTraceContext(headers: MsgHdrs | undefined): Context {
  return propagation.extract(ROOT_CONTEXT, headers, headerGetter);
}

/** Runs `fn` in the trace context `headers` carry (a request/reply caller's own trace, say). */
export function inTraceContextOf<T>(headers: MsgHdrs | undefined, fn: () => T): T {
  return context.with(extractTraceContext(headers), fn);
}

/** The active trace context as header key/values (empty outside a span). */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** Adds the active trace context to `headers` (creating them when there is something to add). */
export function withTraceHeaders(headers: MsgHdrs | undefined): MsgHdrs | undefined {
  const carrier = traceHeaders();
  const keys = Object.keys(carrier);
  if (keys.length === 0) return headers;
  const h = headers ?? natsHeaders();
  for (const k of keys) h.set(k, carrier[k] as string);
  return h;
}

/** Starts a span as a child of `parent`, for work that is not a consumed message (a run started on request). */
export function startSpan(
  name: string,
  attributes: Attributes,
  opts: { parent?: Context; kind?: SpanKind } = {},
): { span: Span; ctx: Context } {
  const parent = opts.parent ?? context.active();
  const span = trace
    .getTracer(TRACER_NAME)
    .startSpan(name, { kind: opts.kind ?? SpanKind.INTERNAL, attributes }, parent);
  return { span, ctx: trace.setSpan(parent, span) };
}

/** Runs `fn` inside a new span (active for log lines and publishes), ending it with fn's outcome. */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const { span, ctx } = startSpan(name, attributes);
  try {
    return await context.with(ctx, () => fn(span));
  } catch (err) {
    recordFailure(span, err);
    throw err;
  } finally {
    span.end();
  }
}

export function recordFailure(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}
