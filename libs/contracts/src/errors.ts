/**
 * The two failure classes every handler speaks. The consume loop maps them — and nothing else — to message
 * outcomes: `PermanentError` → term + dead letter; `RetryableError` → nak with a delay. Any other error is
 * treated as retryable (a bug or a blip should not lose work), up to the consumer's delivery cap.
 */
export class PermanentError extends Error {
  /** Short machine-readable reason carried into the dead letter. */
  readonly reason: string;
  constructor(reason: string, message: string, opts?: ErrorOptions) {
    super(message, opts);
    this.name = "PermanentError";
    this.reason = reason;
  }
}

/** A failure worth retrying: throttling that outlived SDK retries, 5xx, an open circuit, a busy database. */
export class RetryableError extends Error {
  /** Wait at least this long before redelivery; the loop's backoff applies when absent. */
  readonly retryAfterMs: number | undefined;
  /**
   * Stop retrying once the message is this old (since first published): the failure is dead-lettered with its
   * message. For failures that say "AWS is not answering", which would otherwise hold a run for the ~25 minutes
   * of every delivery; unset for those that will pass (throttling) or need a fix (configuration).
   */
  readonly giveUpAfterMs: number | undefined;
  constructor(message: string, opts?: ErrorOptions & { retryAfterMs?: number; giveUpAfterMs?: number }) {
    super(message, opts);
    this.name = "RetryableError";
    this.retryAfterMs = opts?.retryAfterMs;
    this.giveUpAfterMs = opts?.giveUpAfterMs;
  }
}

/** A payload that does not match its schema. Never retried: the same bytes will fail the same way. */
export class SchemaError extends PermanentError {
  readonly issues: string[];
  constructor(what: string, issues: string[]) {
    super("schema", `${what} failed validation: ${issues.join("; ")}`);
    this.name = "SchemaError";
    this.issues = issues;
  }
}
