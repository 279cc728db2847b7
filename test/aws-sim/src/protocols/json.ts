import type { AwsError } from "../aws-error.ts";

export const JSON_CONTENT_TYPE = "application/x-amz-json-1.1";
/** ISO timestamp → epoch seconds (awsJson timestamps are numbers). */
export const epoch = (iso: string | number): number =>
  (typeof iso === "number" ? iso : Date.parse(iso)) / 1000;

export function jsonError(err: AwsError): string {
  return JSON.stringify({ __type: err.code, Message: err.message, ...err.extra });
}
