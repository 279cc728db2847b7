import type { Logger } from "@grantline/log";

/** Calls a metrics listener; its failures are logged, never thrown into the AWS call that reported. */
export function notifyListener<E>(logger: Logger, listener: (e: E) => void, e: E): void {
  try {
    listener(e);
  } catch (err) {
    logger.warn({ err }, "aws metrics listener failed");
  }
}
