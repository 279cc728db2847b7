import { AwsError } from "../aws-error.ts";
import type { QueryParams, XmlValue } from "../protocols/query.ts";
import type { Ctx } from "./context.ts";

type Handler = (ctx: Ctx, p: QueryParams) => Record<string, XmlValue> | null;
type Statement = {
  Effect?: string;
  Principal?: unknown;
  Action?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** Does a trust policy allow this caller (ARN + account) to assume the role with this external id? */
export function trustAllows(
  policy: string,
  caller: { arn: string; accountId: string; roleArn?: string },
  externalId: string | undefined,
): boolean {
  let doc: { Statement?: unknown };
  try {
    doc = JSON.parse(policy) as { Statement?: unknown };
  } catch {
    return false;
  }
  let allowed = false;
  for (const raw of arr(doc.Statement)) {
    const s = raw as Statement;
    if (!arr(s.Action).some((a) => a === "sts:AssumeRole" || a === "sts:*" || a === "*")) continue;
    const pr = s.Principal;
    const aws = pr === "*" ? ["*"] : arr((pr as { AWS?: unknown } | undefined)?.AWS);
    const matches = aws.some(
      (p) =>
        p === "*" ||
        p === caller.accountId ||
        p === `arn:aws:iam::${caller.accountId}:root` ||
        p === caller.arn ||
        (caller.roleArn !== undefined && p === caller.roleArn),
    );
    if (!matches) continue;
    let condOk = true;
    for (const [op, conds] of Object.entries(s.Condition ?? {})) {
      for (const [k, v] of Object.entries(conds)) {
        if (k.toLowerCase() !== "sts:externalid") continue;
        const vals = arr(v).map(String);
        if (op === "StringEquals" || op === "StringLike")
          condOk &&= externalId !== undefined && vals.includes(externalId);
      }
    }
    if (!condOk) continue;
    if (s.Effect === "Deny") return false;
    if (s.Effect === "Allow") allowed = true;
  }
  return allowed;
}

const isoZ = (ms: number): string => new Date(ms).toISOString();

export const STS_OPERATIONS: Record<string, Handler> = {
  GetCallerIdentity: (ctx) => ({
    UserId: ctx.actor.principalId,
    Account: ctx.actor.accountId,
    Arn: ctx.actor.arn,
  }),
  AssumeRole: (ctx, p) => {
    const roleArn = p.get("RoleArn");
    const sessionName = p.get("RoleSessionName");
    if (!roleArn)
      throw new AwsError(
        "ValidationError",
        "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null",
        400,
      );
    if (!sessionName || !/^[\w+=,.@-]{2,64}$/.test(sessionName))
      throw new AwsError(
        "ValidationError",
        `1 validation error detected: Value '${sessionName ?? "null"}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
        400,
      );
    const durRaw = p.get("DurationSeconds");
    const duration = durRaw ? Number(durRaw) : 3600;
    if (!Number.isInteger(duration) || duration < 900 || duration > 43200)
      throw new AwsError(
        "ValidationError",
        `1 validation error detected: Value '${durRaw}' at 'durationSeconds' failed to satisfy constraint: Member must have value ${duration < 900 ? "greater than or equal to 900" : "less than or equal to 43200"}`,
        400,
      );
    const externalId = p.get("ExternalId");
    const m = /^arn:aws:iam::(\d{12}):role(\/.*\/|\/)([\w+=,.@-]+)$/.exec(roleArn);
    const denied = (): AwsError =>
      new AwsError(
        "AccessDenied",
        `User: ${ctx.actor.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
        403,
      );
    if (!m) throw new AwsError("ValidationError", `${roleArn} is invalid`, 400);
    const [, acct, , roleName] = m as unknown as [string, string, string, string];
    const state = ctx.store.accounts.get(acct);
    const role = state?.roles.get(roleName);
    if (!state || !role || state.doc.status !== "ACTIVE") throw denied();
    const i = ctx.actor.init;
    const callerRoleArn =
      i.kind === "AssumedRole"
        ? `arn:aws:iam::${i.accountId}:role${i.rolePath ?? "/"}${i.roleName}`
        : undefined;
    if (
      !trustAllows(
        role.trustPolicy,
        { arn: ctx.actor.arn, accountId: ctx.actor.accountId, roleArn: callerRoleArn },
        externalId,
      )
    )
      throw denied();
    // Role chaining (a role session assuming a role) is capped at one hour whatever the role allows.
    if (i.kind === "AssumedRole" && duration > 3600)
      throw new AwsError(
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        400,
      );
    if (duration > role.maxSessionDuration)
      throw new AwsError(
        "ValidationError",
        `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`,
        400,
      );
    const s = ctx.store.sts.createSession(
      acct,
      role,
      sessionName,
      ctx.sessionDurationOverrideSeconds ?? duration,
    );
    return {
      Credentials: {
        AccessKeyId: s.accessKeyId,
        SecretAccessKey: s.secretAccessKey,
        SessionToken: s.sessionToken,
        Expiration: isoZ(s.expiresAt),
      },
      AssumedRoleUser: {
        AssumedRoleId: `${role.id}:${sessionName}`,
        Arn: `arn:aws:sts::${acct}:assumed-role/${role.name}/${sessionName}`,
      },
      PackedPolicySize: p.get("Policy") ? 6 : undefined,
      SourceIdentity: p.get("SourceIdentity"),
    };
  },
};
