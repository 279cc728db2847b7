import { sql, type Transaction } from "kysely";
import { ACCOUNT_PERMISSION_SET_ENTITLEMENT, type Grant } from "@grantline/contracts";
import { grantId, iamRoleAssignmentEntitlementId } from "@grantline/model";
import type { Database } from "./database.ts";
import type { EventCounts } from "./event-counts.ts";
import { seenByRun, type EventContext } from "./outbox-rows.ts";
import { upsertGrants } from "./upsert-grants.ts";

export const IDENTITY_CENTER_SCOPE = "derived:identity-center";

/** Where Identity Center provisions its roles (aws-access-semantics, IAM Identity Center: the role per set). */
const SSO_ROLE_PATH = "/aws-reserved/sso.amazonaws.com/";
/**
 * `AWSReservedSSO_<permission set name>_<suffix>`: the suffix has no underscore, the set's name may, so the
 * name is everything up to the last one (a greedy match).
 */
const SSO_ROLE_NAME = "^AWSReservedSSO_(.+)_[^_]+$";

/**
 * The Identity Center → IAM link: whoever holds permission set P on account A may assume the role Identity
 * Center provisioned for P in A, so each live grant on the account × permission-set entitlement becomes a grant
 * on that role's `assignment` entitlement. One set-based statement over what this run saw (rows it did not see
 * are about to be swept and must not derive anything), then the batch upsert, so a new link emits
 * `grant.created` and a lost one is revoked, with its event, by the source sweep that follows.
 */
export async function deriveIdentityCenterRoles(
  tx: Transaction<Database>,
  ctx: EventContext,
): Promise<EventCounts> {
  const d = ACCOUNT_PERMISSION_SET_ENTITLEMENT;
  const links = await sql<{
    role_arn: string;
    account_id: string;
    ps_arn: string;
    principal_type: "sso_user" | "sso_group";
    principal_id: string;
  }>`
    SELECT r.id AS role_arn, r.attrs ->> 'accountId' AS account_id, ps.id AS ps_arn, g.principal_type, g.principal_id
      FROM resources r
      JOIN resources ps ON ps.source_id = r.source_id AND ps.type = ${d.permissionSetType}::text
                       AND ps.name = substring(r.name from ${SSO_ROLE_NAME}::text)
                       AND ps.deleted_at IS NULL AND ${seenByRun(ctx, "ps")}
      JOIN grants g ON g.source_id = r.source_id
                   AND g.entitlement_id = (r.attrs ->> 'accountId') || ${d.idSeparator}::text || ps.id
                   AND g.principal_type IN ('sso_user', 'sso_group')
                   AND g.revoked_at IS NULL AND ${seenByRun(ctx, "g")}
     WHERE r.source_id = ${ctx.sourceId} AND r.type = 'iam_role' AND r.deleted_at IS NULL
       AND ${seenByRun(ctx, "r")}
       AND starts_with(r.attrs ->> 'path', ${SSO_ROLE_PATH}::text)`.execute(tx);
  const grants: Grant[] = links.rows.map((l) => {
    const ent = iamRoleAssignmentEntitlementId(l.role_arn);
    const via = `${l.account_id}${d.idSeparator}${l.ps_arn}`;
    return {
      id: `${grantId(ent, l.principal_type, l.principal_id)}#identity-center`,
      entitlementId: ent,
      principalType: l.principal_type,
      principalId: l.principal_id,
      expandable: l.principal_type === "sso_group",
      attrs: {
        derivedFrom: "identity-center",
        accountId: l.account_id,
        permissionSetArn: l.ps_arn,
        viaEntitlement: via,
        conditional: false,
      },
    };
  });
  return upsertGrants(tx, ctx, IDENTITY_CENTER_SCOPE, grants);
}
