import {
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
} from "@aws-sdk/client-sso-admin";
import type { AccountAssignmentOperationStatus } from "@aws-sdk/client-sso-admin";
import type { SourceConfig } from "@grantline/config";
import { PermanentError, RetryableError } from "@grantline/contracts";
import type { AccessChangeOutcome } from "@grantline/contracts";
import type { Logger } from "@grantline/log";
import { AccessChange } from "./access-change.ts";
import type { AssignmentSemaphore } from "./assignment-semaphore.ts";
import { createAwsCallStack } from "./aws-call-stack.ts";
import type { AwsBudgetEvent, AwsCallEvent } from "./budgeted-call.ts";
import { budgetScope } from "./budgets.ts";
import type { BudgetService, RateLimiter } from "./budgets.ts";
import { awsErrorCode, classifyAwsError } from "./classify-aws-error.ts";
import { AssumeRoleError } from "./credentials.ts";
import type { CommandCtor } from "./operations.ts";
import { cmd, iamGroupMembership, identityStoreMembership, message } from "./membership-changes.ts";
import type { Attempt, ChangeCalls, Direction } from "./membership-changes.ts";
import { withBackoff } from "./with-backoff.ts";
import type { Backoff } from "./with-backoff.ts";

export interface AssignmentExecutorOptions {
  /**
   * Account assignment operations outstanding at once per (source, Identity Center instance), over every replica.
   * AWS allows 15 (not increasable; an older page said 10): the lower figure leaves room for other tools.
   * @default 10
   */
  outstandingCap?: number;
  /** Retrying ConflictException ("the previous write did not have time to propagate"). @default 0.5 s ×2 ≤ 8 s, 2 min */
  conflictRetry?: Partial<Backoff>;
  /** Polling an assignment operation to SUCCEEDED or FAILED. @default 0.25 s ×1.5 ≤ 5 s, 15 min */
  statusPoll?: Partial<Backoff>;
  /** Limit of one attempt of an AWS call. @default 30000 */
  callTimeoutMs?: number;
  /** Attempts per call made by the SDK. @default 3 */
  maxAttempts?: number;
}

export interface AssignmentExecutorDeps {
  sources: SourceConfig[];
  /** The budgets the page executor uses (`createRateLimiter(redis, { prefix: "aws:rl:" })`): writes share them. */
  rateLimiter: RateLimiter;
  /** Slots for outstanding assignment operations, shared by every replica (`createRedisSemaphore`). */
  semaphore: AssignmentSemaphore;
  logger: Logger;
  options?: AssignmentExecutorOptions;
  onCall?: (e: AwsCallEvent) => void;
  onBudget?: (e: AwsBudgetEvent) => void;
}

export interface AccessChangeContext {
  signal: AbortSignal;
  logger: Logger;
}

export interface AssignmentExecutor {
  /** Grants `change` and resolves once AWS confirms it (or refuses it for good). */
  grant(change: AccessChange, ctx: AccessChangeContext): Promise<AccessChangeOutcome>;
  /** Revokes `change` and resolves once AWS confirms it (or refuses it for good). */
  revoke(change: AccessChange, ctx: AccessChangeContext): Promise<AccessChangeOutcome>;
  /** Closes the HTTP connections. Does not close the limiter or the semaphore's Redis. */
  close(): Promise<void>;
}

/** Codes that mean "a concurrent or just-finished write has not propagated yet": retried with backoff. */
const CONFLICT_CODES = new Set([
  "ConflictException",
  "ConcurrentModification",
  "ConcurrentModificationException",
]);
/** Quotas no retry lifts (IAM's LimitExceeded is not throttling: e.g. a user in too many groups). */
const QUOTA_CODES = new Set(["ServiceQuotaExceededException", "LimitExceeded"]);

type Change<K extends AccessChange["change"]["kind"]> = Extract<AccessChange["change"], { kind: K }>;

const failed = (err: unknown): AccessChangeOutcome => ({
  outcome: "failed",
  reason: message(err),
  code: awsErrorCode(err),
});

/**
 * Grants and revokes access in AWS, each change confirmed before it is reported, and idempotent:
 * - Identity Center account assignments: a slot of the instance's outstanding-operation cap is held (Redis,
 *   every replica) from Create/Delete until the operation's status is final; ConflictException is retried with
 *   bounded backoff; the status is polled to SUCCEEDED or FAILED (whose `FailureReason` is returned verbatim).
 * - Identity Store and IAM group memberships: synchronous; "already a member" / "not a member" succeed with a note.
 * Every call goes through the source's credentials (IAM in the member account) and the shared budgets.
 *
 * @example
 * const exec = createAssignmentExecutor({ sources, rateLimiter, semaphore: createRedisSemaphore(redis, { logger }), logger });
 * const r = await exec.grant({ sourceId, change: { kind: "account-assignment", instanceArn, accountId,
 *   permissionSetArn, principalType: "USER", principalId } }, { signal, logger });
 * if (r.outcome === "failed") report(r.reason);
 */
export function createAssignmentExecutor(deps: AssignmentExecutorDeps): AssignmentExecutor {
  const o = deps.options ?? {};
  const cap = o.outstandingCap ?? 10;
  const conflictRetry: Backoff = {
    initialMs: 500,
    maxMs: 8000,
    factor: 2,
    totalMs: 120_000,
    ...o.conflictRetry,
  };
  const statusPoll: Backoff = { initialMs: 250, maxMs: 5000, factor: 1.5, totalMs: 900_000, ...o.statusPoll };
  const { sources, calls, factory } = createAwsCallStack(deps, "aws-provisioning");

  interface Call {
    source: SourceConfig;
    service: BudgetService;
    /** The member account acted in; null: the source's own. */
    account: string | null;
    /** What the budget scope is keyed by (InstanceArn, IdentityStoreId). */
    scopeParams: Record<string, string>;
    signal: AbortSignal;
  }

  function send(c: Call, operation: string, command: CommandCtor, input: Record<string, unknown>) {
    const scope = budgetScope(
      { sourceId: c.source.id, accountId: c.account, params: c.scopeParams },
      c.service,
      operation,
    );
    const client = factory.client(c.source, c.service, c.account);
    const ratePerSec = c.source.budgets[c.service];
    const target = { client, sourceId: c.source.id, service: c.service, operation, scope, ratePerSec };
    return calls.send(target, command, input, c.signal);
  }

  /**
   * What a failed call means for the change: a final refusal (returned), a retry (undefined; only when
   * `retryConflicts`), or an error to throw (retryable, or expired credentials after dropping them).
   */
  function judge(
    err: unknown,
    c: Call,
    what: string,
    retryConflicts: boolean,
  ): AccessChangeOutcome | undefined {
    if (err instanceof RetryableError || err instanceof PermanentError) throw err;
    if (err instanceof AssumeRoleError) {
      const cause = classifyAwsError(err.cause, what);
      if (cause.kind === "denied") return { outcome: "failed", reason: err.message, code: cause.code };
      throw new RetryableError(`${what}: ${err.message}`, { cause: err, retryAfterMs: 30_000 });
    }
    const code = awsErrorCode(err);
    if (QUOTA_CODES.has(code)) return failed(err);
    const k = classifyAwsError(err, what);
    if (retryConflicts && (CONFLICT_CODES.has(code) || k.kind === "throttled")) return undefined;
    switch (k.kind) {
      case "denied":
      case "not-found":
      case "invalid":
        return failed(err);
      case "expired":
        factory.invalidate(c.source.id);
        throw k.error;
      default:
        throw k.error;
    }
  }

  /** Runs `attempt` with conflicts retried; still conflicting at the end of the backoff is retryable. */
  async function retrying(c: Call, what: string, attempt: () => Attempt): Promise<AccessChangeOutcome> {
    const out = await withBackoff(conflictRetry, c.signal, attempt);
    if (out) return out;
    throw new RetryableError(`${what}: still conflicting after ${conflictRetry.totalMs} ms`, {
      retryAfterMs: 5000,
    });
  }

  async function assignment(
    ch: Change<"account-assignment">,
    dir: Direction,
    c: Call,
  ): Promise<AccessChangeOutcome> {
    const what = `sso-admin ${dir === "grant" ? "CreateAccountAssignment" : "DeleteAccountAssignment"} (${ch.accountId}, ${ch.permissionSetArn}, ${ch.principalType} ${ch.principalId})`;
    const input = {
      InstanceArn: ch.instanceArn,
      TargetId: ch.accountId,
      TargetType: "AWS_ACCOUNT",
      PermissionSetArn: ch.permissionSetArn,
      PrincipalType: ch.principalType,
      PrincipalId: ch.principalId,
    };
    const lease = await deps.semaphore.acquire(`${c.source.id}:${ch.instanceArn}`, cap, c.signal);
    try {
      let status: AccountAssignmentOperationStatus | undefined;
      const start = await retrying(c, what, async () => {
        try {
          const out = (await (dir === "grant"
            ? send(c, "CreateAccountAssignment", cmd(CreateAccountAssignmentCommand), input)
            : send(c, "DeleteAccountAssignment", cmd(DeleteAccountAssignmentCommand), input))) as {
            AccountAssignmentCreationStatus?: AccountAssignmentOperationStatus;
            AccountAssignmentDeletionStatus?: AccountAssignmentOperationStatus;
          };
          status = out.AccountAssignmentCreationStatus ?? out.AccountAssignmentDeletionStatus;
          return { outcome: "succeeded" };
        } catch (err) {
          return judge(err, c, what, true);
        }
      });
      if (start.outcome === "failed") return start;
      if (!status?.RequestId)
        throw new RetryableError(`${what}: AWS answered without a request id`, { retryAfterMs: 5000 });
      const requestId = status.RequestId;
      const final =
        status.Status !== "IN_PROGRESS" ? status : await pollStatus(c, dir, ch.instanceArn, requestId, what);
      if ("outcome" in final) return { ...final, requestId };
      return final.Status === "SUCCEEDED"
        ? { outcome: "succeeded", requestId }
        : { outcome: "failed", reason: final.FailureReason ?? "", code: final.Status ?? "FAILED", requestId };
    } finally {
      await lease.release();
    }
  }

  async function pollStatus(
    c: Call,
    dir: Direction,
    InstanceArn: string,
    requestId: string,
    what: string,
  ): Promise<AccountAssignmentOperationStatus | AccessChangeOutcome> {
    const final = await withBackoff<AccountAssignmentOperationStatus | AccessChangeOutcome>(
      statusPoll,
      c.signal,
      async () => {
        try {
          const out = (await (dir === "grant"
            ? send(
                c,
                "DescribeAccountAssignmentCreationStatus",
                cmd(DescribeAccountAssignmentCreationStatusCommand),
                { InstanceArn, AccountAssignmentCreationRequestId: requestId },
              )
            : send(
                c,
                "DescribeAccountAssignmentDeletionStatus",
                cmd(DescribeAccountAssignmentDeletionStatusCommand),
                { InstanceArn, AccountAssignmentDeletionRequestId: requestId },
              ))) as {
            AccountAssignmentCreationStatus?: AccountAssignmentOperationStatus;
            AccountAssignmentDeletionStatus?: AccountAssignmentOperationStatus;
          };
          const s = out.AccountAssignmentCreationStatus ?? out.AccountAssignmentDeletionStatus;
          return s?.Status === "IN_PROGRESS" ? undefined : s;
        } catch (err) {
          // The operation runs on whatever the status call says: a transient failure is polled through.
          const k = classifyAwsError(err, what);
          if (k.kind === "expired") factory.invalidate(c.source.id);
          if (k.kind === "throttled" || k.kind === "retryable" || k.kind === "expired") return undefined;
          return judge(err, c, what, false);
        }
      },
    );
    if (final) return final;
    throw new RetryableError(
      `${what}: request ${requestId} still IN_PROGRESS after ${statusPoll.totalMs} ms`,
      {
        retryAfterMs: 30_000,
      },
    );
  }

  /** The calls of one change, for the membership functions. */
  function bound(c: Call): ChangeCalls {
    return {
      send: (operation, command, input) => send(c, operation, command, input),
      judge: (err, what) => judge(err, c, what, true),
      retrying: (what, attempt) => retrying(c, what, attempt),
    };
  }

  async function apply(
    raw: AccessChange,
    dir: Direction,
    ctx: AccessChangeContext,
  ): Promise<AccessChangeOutcome> {
    const parsed = AccessChange.safeParse(raw);
    if (!parsed.success)
      throw new PermanentError(
        "invalid-access-change",
        `aws: invalid access change: ${parsed.error.message}`,
      );
    const { sourceId, change: ch } = parsed.data;
    const source = sources.get(sourceId);
    if (!source)
      throw new PermanentError("unknown-source", `aws: no AWS source "${sourceId}" in this fetcher`);
    const started = performance.now();
    const base = { source, account: null, signal: ctx.signal };
    let out: AccessChangeOutcome;
    switch (ch.kind) {
      case "account-assignment":
        out = await assignment(ch, dir, {
          ...base,
          service: "sso-admin",
          scopeParams: { InstanceArn: ch.instanceArn },
        });
        break;
      case "group-membership":
        out = await identityStoreMembership(
          ch,
          dir,
          bound({ ...base, service: "identitystore", scopeParams: { IdentityStoreId: ch.identityStoreId } }),
        );
        break;
      case "iam-group-membership": {
        // The source's own account is served by its own credentials; another account through the IAM role.
        const own = await factory.ownAccountId(source, ctx.signal).catch((err: unknown) => {
          throw new RetryableError(`source ${source.id}: GetCallerIdentity: ${message(err)}`, {
            cause: err,
            retryAfterMs: 5000,
          });
        });
        const account = ch.accountId === own ? null : ch.accountId;
        out = await iamGroupMembership(ch, dir, bound({ ...base, account, service: "iam", scopeParams: {} }));
        break;
      }
    }
    ctx.logger.info(
      {
        kind: ch.kind,
        sourceId,
        direction: dir,
        ...out,
        ms: Math.round(performance.now() - started),
      },
      "access change finished",
    );
    return out;
  }

  return {
    grant: (change, ctx) => apply(change, "grant", ctx),
    revoke: (change, ctx) => apply(change, "revoke", ctx),
    async close() {
      factory.close();
      await Promise.resolve();
    },
  };
}
