import { AwsError } from "../aws-error.ts";
import { paginate } from "../paging.ts";

export type JsonInput = Record<string, unknown>;
export type JsonHandler<C> = (ctx: C, input: JsonInput) => Record<string, unknown>;

/** Input helpers for awsJson services; `validation` builds the service's validation error. */
export class JsonArgs {
  constructor(
    readonly input: JsonInput,
    private readonly validation: (msg: string) => AwsError,
  ) {}
  str(name: string): string | undefined {
    const v = this.input[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string")
      throw this.validation(
        `1 validation error detected: Value at '${lc(name)}' failed to satisfy constraint: Member must be a string`,
      );
    return v;
  }
  req(name: string): string {
    const v = this.str(name);
    if (v === undefined || v === "")
      throw this.validation(
        `1 validation error detected: Value null at '${lc(name)}' failed to satisfy constraint: Member must not be null`,
      );
    return v;
  }
  maxResults(max: number, def = max): number {
    const v = this.input.MaxResults;
    if (v === undefined || v === null) return def;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > max)
      throw this.validation(
        `1 validation error detected: Value '${String(v)}' at 'maxResults' failed to satisfy constraint: Member must have value ${typeof v === "number" && v < 1 ? "greater than or equal to 1" : `less than or equal to ${max}`}`,
      );
    return v;
  }
  page<T>(all: readonly T[], max: number, key: string, def = max): { items: T[]; NextToken?: string } {
    const r = paginate(all, this.str("NextToken"), this.maxResults(max, def), key, () =>
      this.validation("The specified NextToken is invalid."),
    );
    return { items: r.items, NextToken: r.next };
  }
}
const lc = (s: string): string => s[0]!.toLowerCase() + s.slice(1);
export const asError =
  (code: string, status = 400, extra: Record<string, unknown> = {}) =>
  (msg: string): AwsError =>
    new AwsError(code, msg, status, extra);
