// IAM's input rules from its Smithy model (the name, path and ARN shapes), applied where a request names a
// user, group, role, policy or path: model-constraint violations are `ValidationError` (as AWS's front end
// answers them), a well-formed string that is not a usable ARN is the operation's `InvalidInput`.
import { AwsError } from "../aws-error.ts";
import type { QueryParams } from "../protocols/query.ts";

const lc = (s: string): string => s[0]!.toLowerCase() + s.slice(1);
const violation = (value: string, param: string, constraint: string): AwsError =>
  new AwsError(
    "ValidationError",
    `1 validation error detected: Value '${value}' at '${lc(param)}' failed to satisfy constraint: Member must ${constraint}`,
    400,
  );

interface Rule {
  pattern?: RegExp;
  /** The pattern as AWS quotes it in the message. */
  shown?: string;
  min: number;
  max: number;
}
const NAME = { pattern: /^[\w+=,.@-]+$/, shown: "[\\w+=,.@-]+" };
const RULES: Record<string, Rule> = {
  UserName: { ...NAME, min: 1, max: 64 },
  RoleName: { ...NAME, min: 1, max: 64 },
  GroupName: { ...NAME, min: 1, max: 128 },
  PolicyName: { ...NAME, min: 1, max: 128 },
  Path: {
    pattern: /^(\/|\/[\u0021-\u007E]+\/)$/,
    shown: "(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
    min: 1,
    max: 512,
  },
  PathPrefix: { pattern: /^\/[\u0021-\u007F]*$/, shown: "\\u002F[\\u0021-\\u007F]*", min: 1, max: 512 },
  PolicyArn: { min: 20, max: 2048 },
  PermissionsBoundary: { min: 20, max: 2048 },
  AccessKeyId: { pattern: /^[\w]+$/, shown: "[\\w]+", min: 16, max: 128 },
};
/** Managed policy ARN: AWS-managed (`aws`) or an account's, with an optional path. */
const POLICY_ARN = /^arn:aws:iam::(aws|\d{12}):policy\/([\u0021-\u007E]*\/)?[\w+=,.@-]{1,128}$/;

/** Checks an IAM parameter against its model shape (when it has one) and returns it. */
export function checked(name: string, v: string): string {
  const r = RULES[name];
  if (r === undefined) return v;
  if (v.length < r.min) throw violation(v, name, `have length greater than or equal to ${r.min}`);
  if (v.length > r.max) throw violation(v, name, `have length less than or equal to ${r.max}`);
  if (r.pattern && !r.pattern.test(v))
    throw violation(v, name, `satisfy regular expression pattern: ${r.shown ?? r.pattern.source}`);
  if ((name === "PolicyArn" || name === "PermissionsBoundary") && !POLICY_ARN.test(v))
    throw new AwsError("InvalidInput", `ARN ${v} is not valid.`, 400);
  return v;
}

/** A required IAM parameter, checked against its model shape. */
export function required(p: QueryParams, name: string): string {
  const v = p.get(name);
  if (v === undefined || v === "")
    throw new AwsError(
      "ValidationError",
      `1 validation error detected: Value null at '${lc(name)}' failed to satisfy constraint: Member must not be null`,
      400,
    );
  return checked(name, v);
}
/** An optional IAM parameter, checked when present. */
export function optional(p: QueryParams, name: string): string | undefined {
  const v = p.get(name);
  return v === undefined || v === "" ? undefined : checked(name, v);
}
