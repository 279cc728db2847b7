/** An AWS error; each protocol renders it in its own format. `extra` members are copied into JSON error bodies. */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = code;
  }
}
export const isAwsError = (e: unknown): e is AwsError => e instanceof AwsError;
