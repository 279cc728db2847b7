// Organizations' request checks: the management-account gate and the id patterns of its model. A malformed id is
// InvalidInputException (Reason INVALID_PATTERN, or INVALID_PATTERN_TARGET_ID for policy targets), never not-found.
import { AwsError } from "../aws-error.ts";
import type { Ctx } from "./context.ts";
import { JsonArgs } from "./json-input.ts";
import type { JsonInput } from "./json-input.ts";

export const invalid = (msg: string, reason = "INVALID_INPUT"): AwsError =>
  new AwsError("InvalidInputException", msg, 400, { Reason: reason });

export function orgArgs(ctx: Ctx, input: JsonInput): JsonArgs {
  if (ctx.actor.accountId !== ctx.store.org.managementAccountId)
    throw new AwsError("AccessDeniedException", "You don't have permissions to access this resource.", 403);
  return new JsonArgs(input, (m) => invalid(m));
}

const PATTERNS = {
  account: /^\d{12}$/,
  parent: /^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/,
  child: /^(\d{12}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/,
  policy: /^p-[0-9a-zA-Z_]{8,128}$/,
  target: /^(r-[0-9a-z]{4,32}|\d{12}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/,
};
/** A required id member, checked against its model pattern. */
export function orgId(a: JsonArgs, name: string, kind: keyof typeof PATTERNS): string {
  const v = a.req(name);
  if (!PATTERNS[kind].test(v))
    throw kind === "target"
      ? invalid("You specified an invalid target ID.", "INVALID_PATTERN_TARGET_ID")
      : invalid("You provided a value that does not match the required pattern.", "INVALID_PATTERN");
  return v;
}
