import type { Actor } from "./actor.ts";
import type { AwsError } from "./aws-error.ts";
import type { QueryParams } from "./protocols/query.ts";
import type { ServiceName } from "./server.ts";
import type { Store } from "./store.ts";

/** CloudTrail's eventSource of each simulated service endpoint. */
export const EVENT_SOURCE: Record<ServiceName, string> = {
  iam: "iam.amazonaws.com",
  sts: "sts.amazonaws.com",
  organizations: "organizations.amazonaws.com",
  sso: "sso.amazonaws.com",
  identitystore: "identitystore.amazonaws.com",
  cloudtrail: "cloudtrail.amazonaws.com",
};

/**
 * AWS marks List/Get/Describe/Lookup calls (and STS's credential calls) `readOnly: true`; every other call is a
 * write, whether or not it succeeded.
 */
export function isReadOnlyCall(svc: ServiceName, op: string): boolean {
  return svc === "sts" || /^(List|Get|Describe|Lookup)/.test(op);
}

const camel = (k: string): string => k.charAt(0).toLowerCase() + k.slice(1);
/** CloudTrail names request members after the API's, in camelCase, at every depth. */
export function camelMembers(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(camelMembers);
  if (typeof v !== "object" || v === null) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [camel(k), camelMembers(x)]));
}
/** awsQuery form → CloudTrail requestParameters: the top-level members (lists of `X.member.N` are left out). */
export function queryMembers(form: QueryParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of form.raw) if (k !== "Action" && k !== "Version" && !k.includes(".")) out[camel(k)] = v;
  return out;
}

/**
 * Records a call the handler did not record itself: a read-only call (when reads are recorded) or a failed call
 * (AWS records failures with `errorCode`/`errorMessage`; a failed write changed nothing).
 */
export function recordApiCall(
  store: Store,
  actor: Actor,
  call: { svc: ServiceName; op: string; requestRegion: string; params: Record<string, unknown> },
  error?: AwsError,
): void {
  const readOnly = isReadOnlyCall(call.svc, call.op);
  if (!readOnly && !error) return; // successful writes are recorded by the store, with AWS's own parameters
  const eventSource = EVENT_SOURCE[call.svc];
  store.trail.append(actor, {
    accountId: actor.accountId,
    eventSource,
    eventName: call.op,
    requestParameters: Object.keys(call.params).length ? call.params : null,
    readOnly,
    ...(error ? { error: { code: error.code, message: error.message } } : {}),
    // STS and CloudTrail are regional endpoints: the event lands in the Region the call was made to.
    ...(call.svc === "sts" || call.svc === "cloudtrail" ? { region: call.requestRegion } : {}),
  });
}
