import type {
  GrantReply,
  GrantRequest,
  GrantsRequest,
  ProvisioningRequestSummary,
  ProvisioningState,
  RevokeReply,
  RevokeRequest,
} from "@grantline/contracts";
import type { ControlContext, ControlHandlers } from "@grantline/nats";
import { setTimeout as sleep } from "node:timers/promises";

/** Provisioning requests kept in Postgres (libs/db requestGrant, requestRevoke, listGrantRequests). */
export interface ProvisioningStore {
  grant(sourceId: string, request: GrantRequest, requester: string): Promise<GrantReply>;
  revoke(sourceId: string, request: RevokeRequest, requester: string): Promise<RevokeReply>;
  list(request: GrantsRequest): Promise<ProvisioningRequestSummary[]>;
  /** A request's state now (libs/db provisioningState). */
  state(id: string): Promise<{ state: ProvisioningState; detail: string | null } | undefined>;
}

/** States a request leaves only by a later request or expiry: its reply need not wait past them. */
const WAITING_STATES = new Set<ProvisioningState>(["accepted", "executing"]);

/**
 * Waits until the request leaves `accepted`/`executing` (the AWS change made and confirmed by a re-read, or
 * failed) or `waitSeconds` pass, polling Postgres (0.2 s, growing to 1 s); the reply then carries the state
 * reached. A scheduler stopping ends the wait with the state so far: the request goes on either way.
 */
export async function awaitFinalState(
  store: Pick<ProvisioningStore, "state">,
  reply: Extract<GrantReply, { ok: true }>,
  waitSeconds: number,
  signal: AbortSignal,
): Promise<GrantReply> {
  if (reply.dryRun || waitSeconds === 0 || !WAITING_STATES.has(reply.state)) return reply;
  const deadline = Date.now() + waitSeconds * 1000;
  let pause = 200;
  for (;;) {
    const now = await store.state(reply.requestId);
    const done = now && !WAITING_STATES.has(now.state);
    if (done || Date.now() + pause > deadline || signal.aborted) {
      if (!now) return reply;
      const holders =
        now.state === "failed" ? reply.holders.filter((h) => h.holder !== reply.requestId) : reply.holders;
      return { ...reply, state: now.state, detail: now.detail, holders };
    }
    await sleep(pause, undefined, { signal }).catch(() => undefined);
    pause = Math.min(1000, Math.round(pause * 1.5));
  }
}

/** The request's source: the one named, or the only one configured; otherwise why not. */
export function sourceOf(
  configured: ReadonlySet<string>,
  named: string | undefined,
): { sourceId: string } | { error: string } {
  const only = configured.size === 1 ? [...configured][0] : undefined;
  const sourceId = named ?? only;
  if (sourceId === undefined)
    return { error: `several sources are configured: name one (${[...configured].join(", ")})` };
  if (!configured.has(sourceId))
    return { error: `unknown source "${sourceId}" (configured: ${[...configured].join(", ")})` };
  return { sourceId };
}

/**
 * `grant`, `revoke` and `grants`. The requester is the NATS user the server vouched for (the control subject's
 * last token); validation, idempotency, holders and audit are the store's, in one transaction per request.
 */
export function createProvisioningHandlers(
  sources: ReadonlySet<string>,
  store: ProvisioningStore,
): Pick<ControlHandlers, "grant" | "revoke" | "grants"> {
  /** A grant or revoke: its source resolved, then the store's answer, logged with the request id. */
  function handler<R extends GrantRequest | RevokeRequest>(
    verb: "grant" | "revoke",
    send: (sourceId: string, req: R, requester: string) => Promise<GrantReply>,
  ): (req: R, ctx: ControlContext) => Promise<GrantReply> {
    return async (req, ctx) => {
      const s = sourceOf(sources, req.sourceId);
      if ("error" in s) return { ok: false, refusal: "unknown-source", error: s.error };
      const recorded = await send(s.sourceId, req, ctx.user);
      const requestId = recorded.ok ? recorded.requestId : req.id;
      ctx.logger.info(
        { sourceId: s.sourceId, requestId, ok: recorded.ok, dryRun: req.dryRun },
        `${verb} requested`,
      );
      if (!recorded.ok) return recorded;
      const reply = await awaitFinalState(store, recorded, req.waitSeconds, ctx.signal);
      if (reply.ok && reply.state !== recorded.state)
        ctx.logger.info({ sourceId: s.sourceId, requestId, state: reply.state }, `${verb} ${reply.state}`);
      return reply;
    };
  }
  return {
    grant: handler<GrantRequest>("grant", (id, req, user) => store.grant(id, req, user)),
    revoke: handler<RevokeRequest>("revoke", (id, req, user) => store.revoke(id, req, user)),
    async grants(req) {
      if (req.sourceId !== undefined && !sources.has(req.sourceId))
        return {
          ok: false,
          error: `unknown source "${req.sourceId}" (configured: ${[...sources].join(", ")})`,
        };
      return { ok: true, requests: await store.list(req) };
    },
  };
}
