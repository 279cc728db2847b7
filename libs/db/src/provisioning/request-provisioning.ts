import { randomUUID } from "node:crypto";
import {
  deterministicId,
  type GrantReply,
  type GrantRequest,
  type ProvisioningState,
  type ProvisioningTarget,
  type RevokeRequest,
  type Subjects,
} from "@grantline/contracts";
import { endHolds, STANDING_HOLDER, type Holder } from "@grantline/model";
import type { Db } from "../create-db.ts";
import {
  activeHolders,
  audit,
  endHolders,
  eventData,
  grantPresent,
  loadHolders,
  lockGrantKey,
  lockRequestId,
  provisioningEvent,
  type RequestFacts,
  type RequestRow,
  type Tx,
} from "./provisioning-records.ts";
import { resolveTarget, type ResolvedTarget } from "./resolve-target.ts";

/** Grant and revoke replies share one shape. */
type Reply = GrantReply;

export interface ProvisioningInput<R> {
  sourceId: string;
  request: R;
  /** The NATS user that sent the request (the control subject's last token). */
  requester: string;
  now?: Date;
}

/**
 * The idempotency key: what the request asks, without its id and dry-run flag. The same id with the same key is
 * the same request; with another key, a mistake the caller is told about.
 */
function idempotencyKey(verb: string, sourceId: string, r: GrantRequest | RevokeRequest): string {
  return deterministicId(verb, sourceId, r.target, r.reason ?? null, {
    durationSeconds: "durationSeconds" in r ? (r.durationSeconds ?? null) : null,
    holder: "holder" in r ? (r.holder ?? null) : null,
  });
}

/** Same id, same body: the existing request's state; another body: `id-reused`. Undefined: a new id. */
async function existing(tx: Tx, id: string, key: string, dryRun: boolean): Promise<Reply | undefined> {
  const row = await tx
    .selectFrom("provisioning_requests")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirst();
  if (!row) return undefined;
  if (row.idempotency_key !== key)
    return {
      ok: false,
      refusal: "id-reused",
      error: `request id ${id} was already used for a different request (${row.verb} ${row.grant_key}); use a new id`,
    };
  return {
    ok: true,
    requestId: id,
    dryRun,
    existing: true,
    state: row.state as ProvisioningState,
    grantKey: row.grant_key,
    changes: [],
    expiresAt: row.expires_at === null ? null : new Date(row.expires_at).toISOString(),
    holders: activeHolders(await loadHolders(tx, row.grant_key)),
  };
}

/** A refusal: audited and published (`provisioning.refused`), nothing else recorded. */
async function refuse(
  tx: Tx,
  subjects: Subjects,
  facts: RequestFacts,
  target: ProvisioningTarget,
  reply: Extract<Reply, { ok: false }>,
  now: Date,
  grantKey = "",
): Promise<Reply> {
  await audit(tx, facts, "refused", reply.error, "failed", {
    target,
    refusal: reply.refusal ?? null,
    heldBy: reply.heldBy ?? [],
  });
  await provisioningEvent(
    tx,
    subjects,
    "provisioning.refused",
    {
      requestId: facts.id,
      verb: facts.verb,
      target,
      grantKey,
      requester: facts.requester,
      reason: facts.reason,
      state: "failed",
      expiresAt: null,
      detail: reply.error,
    },
    facts.sourceId,
    now,
  );
  return reply;
}

/** What an accepted request adds to its context. */
interface Accepted {
  state: ProvisioningState;
  expiresAt: Date | null;
  durationSeconds: number | null;
  changes: string[];
}

/** Records an accepted request: its row, the `requested` and `accepted` audit rows, `provisioning.requested`. */
async function record(c: RequestContext, subjects: Subjects, a: Accepted): Promise<RequestRow> {
  const { tx, facts, resolved, grantKey, key, now } = c;
  const row = await tx
    .insertInto("provisioning_requests")
    .values({
      id: facts.id,
      source_id: facts.sourceId,
      verb: facts.verb,
      kind: resolved.target.kind,
      target: JSON.stringify(resolved.target),
      grant_key: grantKey,
      change: JSON.stringify(resolved.change),
      requester: facts.requester,
      reason: facts.reason,
      duration_seconds: a.durationSeconds,
      expires_at: a.expiresAt,
      state: a.state,
      idempotency_key: key,
      detail: a.changes.join("; ") || null,
      created_at: now,
      updated_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await audit(tx, facts, "accepted", "ok", a.state, {
    target: resolved.target,
    grantKey: grantKey,
    changes: a.changes,
    expiresAt: a.expiresAt?.toISOString() ?? null,
  });
  await provisioningEvent(
    tx,
    subjects,
    "provisioning.requested",
    eventData(row, a.state, a.changes.join("; ") || null),
    facts.sourceId,
    now,
  );
  return row;
}

/** What every grant and revoke works with once the target is resolved, under the grant key's lock. */
interface RequestContext {
  tx: Tx;
  facts: RequestFacts;
  key: string;
  resolved: ResolvedTarget;
  grantKey: string;
  holders: Holder[];
  present: boolean;
  now: Date;
}

/**
 * The common part of a grant and a revoke, in one transaction: the same id is answered from its record (or
 * refused when the body differs), the target is resolved against the synced data (refusals audited unless a dry
 * run), and `body` runs under the grant key's lock with the grant's holders.
 */
async function inRequest(
  db: Db,
  subjects: Subjects,
  verb: "grant" | "revoke",
  input: ProvisioningInput<GrantRequest | RevokeRequest>,
  body: (c: RequestContext) => Promise<Reply>,
): Promise<Reply> {
  const { sourceId, request: r } = input;
  const now = input.now ?? new Date();
  const id = r.id ?? randomUUID();
  const facts: RequestFacts = { id, sourceId, verb, requester: input.requester, reason: r.reason ?? null };
  const key = idempotencyKey(verb, sourceId, r);
  return db.transaction().execute(async (tx) => {
    await lockRequestId(tx, id);
    const seen = await existing(tx, id, key, r.dryRun);
    if (seen) return seen;
    // A revoke may still clean up an account no longer ACTIVE; a grant may not add to one.
    const resolved = await resolveTarget(tx, sourceId, r.target, { checkAccount: verb === "grant" });
    if ("refusal" in resolved)
      return r.dryRun
        ? { ok: false, ...resolved }
        : refuse(tx, subjects, facts, r.target, { ok: false, ...resolved }, now);
    const grantKey = `${sourceId}/${resolved.grantId}`;
    await lockGrantKey(tx, grantKey);
    const holders = await loadHolders(tx, grantKey);
    const present = await grantPresent(tx, sourceId, resolved.grantId);
    return body({ tx, facts, key, resolved, grantKey, holders, present, now });
  });
}

/** What the grant does to the holders: a refusal (no-op), or the new request's state and AWS change. */
function planGrant(
  holders: Holder[],
  present: boolean,
  made: boolean,
  resolved: ResolvedTarget,
): { noop: true; standing: boolean } | { noop: false; state: ProvisioningState; changes: string[] } {
  const active = holders.filter((h) => h.endedAt === null);
  // A standing or permanent holder already gives everything this request could.
  if (active.some((h) => h.standing || h.expiresAt === null)) return { noop: true, standing: false };
  if (active.length > 0)
    // Joins time-bound holders: the access stays until the last of them ends. Once a holder's create is done
    // (synced, or confirmed) this one is active at once; before, the pending create carries it too.
    return { noop: false, state: present || made ? "active" : "accepted", changes: [] };
  if (present) return { noop: true, standing: true };
  return { noop: false, state: "accepted", changes: [`grant ${resolved.describe}`] };
}

/**
 * `grantline grant`: validates against the synced data, then records the request as a holder of the grant
 * (state `accepted`: `pendingProvisioning` hands it to the executor), or refuses it. Idempotent by request id.
 */
export async function requestGrant(
  db: Db,
  subjects: Subjects,
  input: ProvisioningInput<GrantRequest>,
): Promise<Reply> {
  const r = input.request;
  return inRequest(db, subjects, "grant", input, async (c) => {
    const { tx, facts, resolved, grantKey, holders, present, now } = c;
    const id = facts.id;
    const live = holders.filter((h) => h.endedAt === null && !h.standing).map((h) => h.holder);
    const made = await tx
      .selectFrom("provisioning_requests")
      .select("id")
      .where("id", "in", live.length ? live : [""])
      .where("state", "=", "active")
      .executeTakeFirst();
    // A revoke of this grant still to be carried out: the synced row will go, so it is not a standing assignment
    // and this request needs a create of its own (after the delete: calls of one grant run one at a time).
    const revoking = await tx
      .selectFrom("provisioning_requests")
      .select("id")
      .where("grant_key", "=", grantKey)
      .where("verb", "=", "revoke")
      .where("state", "in", ["accepted", "executing"])
      .executeTakeFirst();
    const plan = planGrant(holders, present && revoking === undefined, made !== undefined, resolved);
    if (plan.noop) {
      // An assignment grantline did not create: from now on it is a holder no expiry ends.
      if (plan.standing && !r.dryRun) await recordStanding(tx, grantKey, now);
      const heldBy = plan.standing
        ? [{ holder: STANDING_HOLDER, standing: true, expiresAt: null }]
        : activeHolders(holders);
      const reply = {
        ok: false as const,
        refusal: "already-granted" as const,
        error: `already granted: ${resolved.describe} is held by ${heldBy.map((h) => (h.standing ? `a standing assignment (synced grant ${resolved.grantId})` : `request ${h.holder}${h.expiresAt ? ` until ${h.expiresAt}` : ""}`)).join(", ")}`,
        heldBy,
        grantId: resolved.grantId,
      };
      return r.dryRun ? reply : refuse(tx, subjects, facts, resolved.target, reply, now, grantKey);
    }
    const expiresAt =
      r.durationSeconds === undefined ? null : new Date(now.getTime() + r.durationSeconds * 1000);
    const after: Holder[] = [
      ...holders,
      { holder: id, standing: false, expiresAt: expiresAt?.getTime() ?? null, endedAt: null },
    ];
    const reply: Reply = {
      ok: true,
      requestId: id,
      dryRun: r.dryRun,
      existing: false,
      state: plan.state,
      grantKey,
      changes: plan.changes,
      expiresAt: expiresAt?.toISOString() ?? null,
      holders: activeHolders(after),
    };
    if (r.dryRun) return reply;
    await tx
      .insertInto("grant_holders")
      .values({ grant_key: grantKey, holder: id, standing: false, expires_at: expiresAt, created_at: now })
      .execute();
    await audit(tx, facts, "requested", "ok", null, {
      target: r.target,
      durationSeconds: r.durationSeconds ?? null,
    });
    await record(c, subjects, {
      state: plan.state,
      expiresAt,
      durationSeconds: r.durationSeconds ?? null,
      changes: plan.changes,
    });
    return reply;
  });
}

async function recordStanding(tx: Tx, grantKey: string, now: Date): Promise<void> {
  await tx
    .insertInto("grant_holders")
    .values({
      grant_key: grantKey,
      holder: STANDING_HOLDER,
      standing: true,
      expires_at: null,
      created_at: now,
    })
    .onConflict((oc) => oc.columns(["grant_key", "holder"]).doUpdateSet({ ended_at: null, end_reason: null }))
    .execute();
}

/**
 * `grantline revoke`: ends every hold of the grant (or one grant request's, `holder`); the access goes — a revoke
 * request in state `accepted` for the executor — when no holder remains and it exists or is being made.
 */
export async function requestRevoke(
  db: Db,
  subjects: Subjects,
  input: ProvisioningInput<RevokeRequest>,
): Promise<Reply> {
  const r = input.request;
  return inRequest(db, subjects, "revoke", input, async (c) => {
    const { tx, facts, resolved, grantKey, holders, present, now } = c;
    const id = facts.id;
    const active = holders.filter((h) => h.endedAt === null);
    const refusal = (refusal: "unknown-holder" | "not-granted", error: string) => ({
      ok: false as const,
      refusal,
      error,
      heldBy: activeHolders(holders),
    });
    if (r.holder !== undefined && !active.some((h) => h.holder === r.holder)) {
      const reply = refusal("unknown-holder", `${r.holder} does not hold ${resolved.describe}`);
      return r.dryRun ? reply : refuse(tx, subjects, facts, resolved.target, reply, now, grantKey);
    }
    const ends = endHolds(holders, r.holder === undefined ? { all: true } : { holder: r.holder });
    const holderStates = await tx
      .selectFrom("provisioning_requests")
      .select(["id", "state"])
      .where("id", "in", ends.ending.length ? ends.ending : [""])
      .execute();
    // A pending create never carried out leaves nothing in AWS to delete; one executing or done does.
    const made = present || holderStates.some((h) => h.state === "executing" || h.state === "active");
    if (!made && ends.ending.length === 0) {
      const reply = refusal("not-granted", `not granted: ${resolved.describe} (synced data)`);
      return r.dryRun ? reply : refuse(tx, subjects, facts, resolved.target, reply, now, grantKey);
    }
    const deletes = ends.revoke && made;
    const changes = deletes ? [`revoke ${resolved.describe}`] : [];
    const remaining = holders.filter((h) => h.endedAt === null && !ends.ending.includes(h.holder));
    const reply: Reply = {
      ok: true,
      requestId: id,
      dryRun: r.dryRun,
      existing: false,
      state: deletes ? "accepted" : "done",
      grantKey,
      changes,
      expiresAt: null,
      holders: activeHolders(remaining),
    };
    if (r.dryRun) return reply;
    await endHolders(tx, grantKey, ends.ending, now, `revoked by ${id}`);
    const requestHolders = ends.ending.filter((h) => h !== STANDING_HOLDER);
    if (requestHolders.length > 0)
      await tx
        .updateTable("provisioning_requests")
        .set({ state: "revoked", updated_at: now, detail: `revoked by ${id}` })
        .where("id", "in", requestHolders)
        .execute();
    await audit(tx, facts, "requested", "ok", null, { target: r.target, holder: r.holder ?? null });
    for (const h of ends.ending) await audit(tx, facts, "hold-ended", h, null, { holder: h, grantKey });
    await record(c, subjects, {
      state: reply.state,
      expiresAt: null,
      durationSeconds: null,
      changes,
    });
    return reply;
  });
}
