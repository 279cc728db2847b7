import { sql, type Transaction } from "kysely";
import { ACCOUNT_PERMISSION_SET_ENTITLEMENT } from "@grantline/contracts";
import type { Database } from "./database.ts";
import { seenByRun, type EventContext } from "./outbox-rows.ts";

/**
 * The derived entitlements' scope: swept at the end of a refresh run, which has no source-wide sweep, so a
 * permission set or account that is gone takes its entitlements with it.
 */
export const ACCOUNT_PERMISSION_SET_SCOPE = "derived:account-permission-set";

/**
 * One entitlement per account × permission set — every set, provisioned or not, as baton-aws models it, so
 * any set can be requested on any account. It is the product of two lists no single page sees, so it is
 * derived here, in one set-based statement, from the accounts and permission sets this run saw.
 */
export async function deriveAccountPermissionSetEntitlements(
  tx: Transaction<Database>,
  ctx: EventContext,
): Promise<void> {
  // Spelled as the model spells these ids (libs/model accountPermissionSetEntitlementId): the parts are
  // parameters from the one contract descriptor, never retyped here.
  const d = ACCOUNT_PERMISSION_SET_ENTITLEMENT;
  await sql`
    INSERT INTO entitlements AS e (source_id, id, resource_type, resource_id, slug, name, attrs, scope, first_seen_run, last_seen_run)
    SELECT a.source_id, a.id || ${d.idSeparator}::text || ps.id, ${d.resourceType}::text, a.id, ${d.slugPrefix}::text || ps.id, ps.name || ' access',
           jsonb_build_object('permissionSetArn', ps.id, 'permissionSetName', ps.name), ${ACCOUNT_PERMISSION_SET_SCOPE}::text, ${ctx.runId}::uuid, ${ctx.runId}::uuid
      FROM resources a
      JOIN resources ps ON ps.source_id = a.source_id AND ps.type = ${d.permissionSetType}::text AND ps.deleted_at IS NULL AND ${seenByRun(ctx, "ps")}
     WHERE a.source_id = ${ctx.sourceId} AND a.type = ${d.resourceType}::text AND a.deleted_at IS NULL AND ${seenByRun(ctx, "a")}
    ON CONFLICT (source_id, id) DO UPDATE SET
      name = EXCLUDED.name, attrs = EXCLUDED.attrs, scope = EXCLUDED.scope, last_seen_run = EXCLUDED.last_seen_run, deleted_at = NULL`.execute(
    tx,
  );
}
