import type { Logger } from "pino";

const LEVELS = new Set(["fatal", "error", "warn", "info", "debug", "trace"]);
const noop = (): void => undefined;

/**
 * `parent.child(bindings)`, made only when something is logged through it. pino serialises a child's bindings
 * when the child is made — each value through the redaction of `createLogger` — and a consumer makes one per
 * message, most of which log nothing at the service's level: the benchmark's profile put that at a tenth of the
 * mapper's CPU. A level the parent has off answers a no-op without making the child.
 *
 * @example
 * const log = lazyChild(logger, { subject: msg.subject, seq: msg.seq });
 * log.debug("handled"); // at level "info": nothing made, nothing written
 */
export function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  let child: Logger | undefined;
  const made = (): Logger => (child ??= parent.child(bindings));
  return new Proxy(parent, {
    get(_target, prop) {
      if (!child && typeof prop === "string" && LEVELS.has(prop) && !parent.isLevelEnabled(prop)) return noop;
      const c = made();
      const v: unknown = Reflect.get(c, prop, c);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(c) : v;
    },
    set(_target, prop, value) {
      return Reflect.set(made(), prop, value);
    },
  });
}
