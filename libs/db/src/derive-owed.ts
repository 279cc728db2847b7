import { sql, type Transaction } from "kysely";
import type { Subjects } from "@grantline/contracts";
import type { Db } from "./create-db.ts";
import type { Database } from "./database.ts";
import { deriveAccountTrust, ACCOUNT_TRUST_SCOPE } from "./derive-account-trust.ts";
import {
  deriveAccountPermissionSetEntitlements,
  ACCOUNT_PERMISSION_SET_SCOPE,
} from "./derive-entitlements.ts";
import { deriveIdentityCenterRoles, IDENTITY_CENTER_SCOPE } from "./derive-identity-center-roles.ts";
import { addEvents, type EventCounts } from "./event-counts.ts";
import { refreshGrantChains } from "./grant-chains.ts";
import type { EventContext } from "./outbox-rows.ts";
import { sweepGrantsOnDeletedEntitlements, sweepScope } from "./sweep.ts";

/**
 * Serializes a source's run-end derivations: a full run's end and the deriver (`deriveOwed`) write the same
 * derived scopes and sweep them, so two at once would sweep each other's rows.
 */
export async function lockDerivations(tx: Transaction<Database>, sourceId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${`grantline:derive:${sourceId}`}))`.execute(tx);
}

/** What a successful full run derives from everything it saw, before the source sweep. */
export async function deriveRunEnd(tx: Transaction<Database>, ctx: EventContext): Promise<EventCounts> {
  await deriveAccountPermissionSetEntitlements(tx, ctx);
  return addEvents(await deriveIdentityCenterRoles(tx, ctx), await deriveAccountTrust(tx, ctx));
}

/**
 * The derivations again over the source's live rows, with only their scopes swept: a derived grant or
 * entitlement no longer derived goes, and with an entitlement gone (its permission set or account deleted) the
 * grants on it, as a full run's source sweep would revoke them.
 */
async function deriveLive(tx: Transaction<Database>, ctx: EventContext): Promise<EventCounts> {
  let events = await deriveRunEnd(tx, { ...ctx, liveRows: true });
  for (const scope of [IDENTITY_CENTER_SCOPE, ACCOUNT_TRUST_SCOPE, ACCOUNT_PERMISSION_SET_SCOPE])
    events = addEvents(events, await sweepScope(tx, ctx, scope, { spareRunning: true }));
  return addEvents(events, await sweepGrantsOnDeletedEntitlements(tx, ctx, ACCOUNT_PERMISSION_SET_SCOPE));
}

/** The run's stats keep numbers only (the status reply's schema): `derivedGrantsCreated` and so on. */
function derivedStats(events: EventCounts): Record<string, number> {
  return Object.fromEntries(
    Object.entries(events).map(([k, v]) => [`derived${k[0]!.toUpperCase()}${k.slice(1)}`, v]),
  );
}

/** Sources whose last refresh runs' derivations are still owed (`sources.derive_run`). */
export async function sourcesOwingDerivation(db: Db): Promise<string[]> {
  const rows = await db.selectFrom("sources").select("id").where("derive_run", "is not", null).execute();
  return rows.map((r) => r.id);
}

export interface Derived {
  /** The refresh run the derivation followed (its events carry that run id). */
  runId: string;
  events: EventCounts;
  chains: number;
}

/**
 * The deriver: what refresh runs no longer do at their end (migration 0012). A refresh run read a few objects,
 * and what it changed may change what is derived (Identity Center's reserved roles, account-root trust, the
 * account × permission-set entitlements) and the 2+-hop chains. Doing that inside each run's completing
 * transaction took 28–67 s on a large source, and every later change waited for it (one active run per
 * source); here it runs once for every refresh run that ended meanwhile, after them, under the source's
 * derivation lock. The owed run is cleared only if no later run replaced it, so a run ending during the
 * derivation is derived by the next call. Returns null when nothing was owed.
 */
export async function deriveOwed(db: Db, subjects: Subjects, sourceId: string): Promise<Derived | null> {
  return db.transaction().execute(async (tx) => {
    await lockDerivations(tx, sourceId);
    const owed = await tx
      .selectFrom("sources")
      .leftJoin("runs", "runs.id", "sources.derive_run")
      .select(["sources.derive_run", "runs.is_initial"])
      .where("sources.id", "=", sourceId)
      .executeTakeFirst();
    const runId = owed?.derive_run;
    if (!runId) return null;
    const ctx: EventContext = {
      subjects,
      sourceId,
      runId,
      initial: owed.is_initial ?? false,
      now: new Date(),
    };
    const events = await deriveLive(tx, ctx);
    const chains = await refreshGrantChains(tx, sourceId);
    await tx
      .updateTable("runs")
      .set({ stats: sql`stats || ${JSON.stringify(derivedStats(events))}::jsonb` })
      .where("id", "=", runId)
      .execute();
    await tx
      .updateTable("sources")
      .set({ derive_run: null })
      .where("id", "=", sourceId)
      .where("derive_run", "=", runId)
      .execute();
    return { runId, events, chains };
  });
}
