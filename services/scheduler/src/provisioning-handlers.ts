import type {
  GrantReply,
  GrantRequest,
  GrantsRequest,
  ProvisioningRequestSummary,
  RevokeReply,
  RevokeRequest,
} from "@grantline/contracts";
import type { ControlContext, ControlHandlers } from "@grantline/nats";

/** Provisioning requests kept in Postgres (libs/db requestGrant, requestRevoke, listGrantRequests). */
export interface ProvisioningStore {
  grant(sourceId: string, request: GrantRequest, requester: string): Promise<GrantReply>;
  revoke(sourceId: string, request: RevokeRequest, requester: string): Promise<RevokeReply>;
  list(request: GrantsRequest): Promise<ProvisioningRequestSummary[]>;
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
      const reply = await send(s.sourceId, req, ctx.user);
      const requestId = reply.ok ? reply.requestId : req.id;
      ctx.logger.info(
        { sourceId: s.sourceId, requestId, ok: reply.ok, dryRun: req.dryRun },
        `${verb} requested`,
      );
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
