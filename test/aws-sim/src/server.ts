import type { IncomingMessage, ServerResponse } from "node:http";
import { Actor } from "./actor.ts";
import { camelMembers, queryMembers, recordApiCall } from "./api-trail.ts";
import { AwsError, isAwsError } from "./aws-error.ts";
import type { Counters } from "./counters.ts";
import type { FaultConfig } from "./faults.ts";
import { requestId as newRequestId } from "./ids.ts";
import { JSON_CONTENT_TYPE, jsonError } from "./protocols/json.ts";
import { IAM_NS, QueryParams, queryError, querySuccess, STS_NS } from "./protocols/query.ts";
import type { QuotaFamily, RateLimiter } from "./rate-limiter.ts";
import { CLOUDTRAIL_OPERATIONS } from "./services/cloudtrail.ts";
import type { Ctx } from "./services/context.ts";
import { IAM_OPERATIONS } from "./services/iam.ts";
import { IDENTITY_STORE_OPERATIONS } from "./services/identity-store.ts";
import type { JsonHandler } from "./services/json-input.ts";
import { ORGANIZATIONS_OPERATIONS } from "./services/organizations.ts";
import { SSO_ADMIN_OPERATIONS } from "./services/sso-admin.ts";
import { STS_OPERATIONS } from "./services/sts.ts";
import type { Store } from "./store.ts";

export type ServiceName = "iam" | "sts" | "organizations" | "sso" | "identitystore" | "cloudtrail";
const TARGETS: Record<string, ServiceName> = {
  AWSOrganizationsV20161128: "organizations",
  SWBExternalService: "sso",
  AWSIdentityStore: "identitystore",
  CloudTrail_20131101: "cloudtrail",
  "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101": "cloudtrail",
};
const JSON_OPS: Record<string, Record<string, JsonHandler<Ctx>>> = {
  organizations: ORGANIZATIONS_OPERATIONS,
  sso: SSO_ADMIN_OPERATIONS,
  identitystore: IDENTITY_STORE_OPERATIONS,
  cloudtrail: CLOUDTRAIL_OPERATIONS,
};
const FAMILY: Record<ServiceName, QuotaFamily> = {
  iam: "iam",
  sts: "sts",
  organizations: "organizations",
  sso: "ssoAdmin",
  identitystore: "identityStore",
  cloudtrail: "cloudtrail",
};

export interface ServerDeps {
  store: Store;
  counters: Counters;
  limiter: RateLimiter;
  faults: () => FaultConfig;
  region: string;
  admin: (req: IncomingMessage, res: ServerResponse, body: string) => Promise<void>;
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function throttleError(svc: ServiceName, rid: string): AwsError {
  switch (svc) {
    case "iam":
    case "sts":
      return new AwsError("Throttling", "Rate exceeded", 400);
    case "organizations":
      return new AwsError(
        "TooManyRequestsException",
        "AWS Organizations can't complete your request because another request is already in progress. Try again later.",
        400,
        { Type: "TooManyRequestsException" },
      );
    case "identitystore":
      return new AwsError("ThrottlingException", "Rate exceeded", 400, {
        RequestId: rid,
        RetryAfterSeconds: 1,
      });
    default:
      return new AwsError("ThrottlingException", "Rate exceeded", 400);
  }
}
function injectedError(svc: ServiceName, rid: string): AwsError {
  if (Math.random() < 0.5)
    return new AwsError("ServiceUnavailable", "Service is unavailable. Try again later.", 503);
  switch (svc) {
    case "iam":
      return new AwsError(
        "ServiceFailure",
        "Request processing has failed due to some unknown error, exception or failure.",
        500,
      );
    case "sts":
      return new AwsError(
        "InternalFailure",
        "The request processing has failed because of an unknown error, exception or failure.",
        500,
      );
    case "organizations":
      return new AwsError(
        "ServiceException",
        "AWS Organizations can't complete your request because of an internal service error. Try again later.",
        500,
      );
    case "identitystore":
      return new AwsError(
        "InternalServerException",
        "The request processing has failed because of an unknown error, exception or failure.",
        500,
        { RequestId: rid, RetryAfterSeconds: 1 },
      );
    case "sso":
      return new AwsError(
        "InternalServerException",
        "The request processing has failed because of an unknown error, exception or failure.",
        500,
      );
    default:
      return new AwsError(
        "InternalFailure",
        "The request processing has failed because of an unknown error, exception or failure.",
        500,
      );
  }
}

/** Resolves the caller from the SigV4 access key id; errors are protocol-specific (query vs json). */
function resolveActor(store: Store, akid: string | undefined, json: boolean): Actor {
  const invalid = (): AwsError =>
    json
      ? new AwsError(
          "UnrecognizedClientException",
          "The security token included in the request is invalid.",
          400,
        )
      : new AwsError("InvalidClientTokenId", "The security token included in the request is invalid.", 403);
  if (!akid)
    throw json
      ? new AwsError("MissingAuthenticationTokenException", "Missing Authentication Token", 400)
      : new AwsError("MissingAuthenticationToken", "Request is missing Authentication Token", 403);
  const ref = store.keys.get(akid);
  if (!ref) throw invalid();
  if (ref.kind === "session") {
    const s = ref.session;
    if (Date.now() >= s.expiresAt)
      throw json
        ? new AwsError("ExpiredTokenException", "The security token included in the request is expired", 400)
        : new AwsError("ExpiredToken", "The security token included in the request is expired", 400);
    if (!store.accounts.has(s.accountId)) throw invalid();
    return new Actor({
      kind: "AssumedRole",
      accountId: s.accountId,
      accessKeyId: akid,
      roleName: s.roleName,
      roleId: s.roleId,
      rolePath: s.rolePath,
      sessionName: s.sessionName,
      sessionCreated: s.created,
    });
  }
  const u = store.accounts.get(ref.accountId)?.users.get(ref.userName);
  const k = u?.accessKeys.find((x) => x.id === akid);
  if (!u || !k || k.status !== "Active") throw invalid();
  return new Actor({
    kind: "IAMUser",
    accountId: ref.accountId,
    accessKeyId: akid,
    userName: u.name,
    userId: u.id,
    userPath: u.path,
  });
}

export function createHandler(deps: ServerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const seenInvocations = new Set<string>();
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    if ((req.url ?? "").startsWith("/_sim/")) return deps.admin(req, res, body);
    const rid = newRequestId();
    const target = req.headers["x-amz-target"];
    const auth = req.headers.authorization ?? "";
    const cred = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(auth);
    let svc: ServiceName | undefined;
    let op = "";
    let form: QueryParams | undefined;
    let input: Record<string, unknown> = {};
    if (typeof target === "string" && target.includes(".")) {
      const dot = target.lastIndexOf(".");
      svc = TARGETS[target.slice(0, dot)];
      op = target.slice(dot + 1);
    } else {
      form = new QueryParams(new URLSearchParams(body));
      op = form.get("Action") ?? "";
      const v = form.get("Version");
      svc =
        v === "2010-05-08"
          ? "iam"
          : v === "2011-06-15"
            ? "sts"
            : cred?.[3] === "iam"
              ? "iam"
              : cred?.[3] === "sts"
                ? "sts"
                : undefined;
    }
    const json = form === undefined;
    const ns = svc === "sts" ? STS_NS : IAM_NS;
    const send = (status: number, payload: string): void => {
      res.writeHead(status, {
        "content-type": json ? JSON_CONTENT_TYPE : "text/xml",
        "x-amzn-requestid": rid,
        "content-length": Buffer.byteLength(payload),
      });
      res.end(payload);
    };
    const fail = (e: AwsError): void => {
      if (json) res.setHeader("x-amzn-errortype", e.code);
      send(e.status, json ? jsonError(e) : queryError(e, ns, rid));
    };
    if (!svc)
      return fail(
        json
          ? new AwsError("UnknownOperationException", `Unknown target ${String(target)}`, 400)
          : new AwsError(
              "InvalidAction",
              `Could not find operation ${op} for version ${form?.get("Version") ?? "null"}`,
              400,
            ),
      );
    const key = `${svc}:${op}`;
    const queryHandler = svc === "iam" ? IAM_OPERATIONS[op] : svc === "sts" ? STS_OPERATIONS[op] : undefined;
    const jsonHandler = json ? JSON_OPS[svc]?.[op] : undefined;
    if (!queryHandler && !jsonHandler) {
      deps.counters.record(key, undefined, "error");
      return fail(
        json
          ? new AwsError("UnknownOperationException", `Unknown operation ${op}`, 400)
          : new AwsError(
              "InvalidAction",
              `Could not find operation ${op} for version ${form?.get("Version") ?? ""}`,
              400,
            ),
      );
    }
    const f = deps.faults();
    if (f.latency) await sleep(f.latency.minMs + Math.random() * (f.latency.maxMs - f.latency.minMs));
    let actor: Actor;
    let scope: string | undefined;
    try {
      if (json && body.trim()) {
        const parsed: unknown = JSON.parse(body);
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
          throw new AwsError("SerializationException", "Request body must be a JSON object", 400);
        input = parsed as Record<string, unknown>;
      }
      actor = resolveActor(deps.store, cred?.[1], json);
      actor.userAgent = req.headers["user-agent"];
      const ic = deps.store.ic;
      scope =
        svc === "sso"
          ? `sso:${ic?.instanceArn ?? ""}`
          : svc === "identitystore"
            ? `identitystore:${ic?.identityStoreId ?? ""}:${op}`
            : svc === "iam"
              ? `iam:${actor.accountId}:${op}`
              : svc === "organizations"
                ? `organizations:${op}`
                : `${svc}:${actor.accountId}`;
      // One-shot throttling of first attempts (retries detected via amz-sdk-request / amz-sdk-invocation-id).
      const tfa = f.throttleFirstAttempt;
      if (tfa === true || (Array.isArray(tfa) && (tfa.includes(key) || tfa.includes(op)))) {
        const attempt = /attempt=(\d+)/.exec(String(req.headers["amz-sdk-request"] ?? ""))?.[1];
        const inv = String(req.headers["amz-sdk-invocation-id"] ?? "");
        let first = attempt !== undefined ? attempt === "1" : true;
        if (attempt === undefined && inv) {
          first = !seenInvocations.has(inv);
          seenInvocations.add(inv);
          if (seenInvocations.size > 100_000) seenInvocations.clear();
        }
        if (first) {
          deps.counters.record(key, scope, "throttled");
          return fail(throttleError(svc, rid));
        }
      }
      if (!deps.limiter.take(FAMILY[svc], scope)) {
        deps.counters.record(key, scope, "throttled");
        return fail(throttleError(svc, rid));
      }
      if (f.errorRate > 0 && Math.random() < f.errorRate) throw injectedError(svc, rid);
      deps.store.ssoAdmin.settle();
      const requestRegion = cred?.[2] ?? deps.region;
      const ctx: Ctx = {
        store: deps.store,
        actor,
        region: deps.region,
        requestRegion,
        sessionDurationOverrideSeconds: f.sessionDurationOverrideSeconds ?? undefined,
      };
      const call = {
        svc,
        op,
        requestRegion,
        params: form ? queryMembers(form) : (camelMembers(input) as Record<string, unknown>),
      };
      let payload: string;
      try {
        payload = queryHandler
          ? querySuccess(op, ns, queryHandler(ctx, form!), rid)
          : JSON.stringify(jsonHandler!(ctx, input));
      } catch (e) {
        if (isAwsError(e)) recordApiCall(deps.store, actor, call, e);
        throw e;
      }
      recordApiCall(deps.store, actor, call);
      deps.counters.record(key, scope, "ok");
      return send(200, payload);
    } catch (e) {
      deps.counters.record(key, scope, "error");
      if (isAwsError(e)) return fail(e);
      if (e instanceof SyntaxError)
        return fail(
          json
            ? new AwsError("SerializationException", "Malformed JSON body", 400)
            : new AwsError("MalformedQueryString", "Malformed request", 400),
        );
      return fail(
        new AwsError(
          json ? "InternalServerException" : "ServiceFailure",
          e instanceof Error ? e.message : String(e),
          500,
        ),
      );
    }
  };
  return (req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(e));
    });
  };
}
