import { sql, type Transaction } from "kysely";
import { FixedEntitlementSlug, type Grant } from "@grantline/contracts";
import { grantId } from "@grantline/model";
import { evaluateIdentity, evaluateTrust, trustDenies } from "@grantline/policy";
import type { Database } from "./database.ts";
import { noEvents, type EventCounts } from "./event-counts.ts";
import { loadIamIdentities, policyDocument, type IamIdentity } from "./load-iam-identities.ts";
import { seenByRun, type EventContext } from "./outbox-rows.ts";
import { upsertGrants } from "./upsert-grants.ts";

export const ACCOUNT_TRUST_SCOPE = "derived:account-trust";

interface AccountTrust {
  entitlement_id: string;
  role_arn: string;
  trusted_account: string;
  attrs: Record<string, unknown>;
  trust_policy: unknown;
}

/**
 * A role that trusts a whole account (`"AWS": "<account>"` or its `:root`) delegates to that account's IAM: any
 * of its users and roles whose identity policies allow `sts:AssumeRole` on the role — no explicit Deny, the
 * permissions boundary allowing too — may assume it, unless the trust policy denies that principal
 * (aws-access-semantics §1–2). Each such principal gets a grant on the role's `assignment` entitlement, so
 * "who can assume R" names people, not an account number. Derived from what this run saw, upserted like a
 * batch's grants (events for new ones; lost ones are revoked by the source sweep that follows).
 *
 * A role is not given itself: re-assuming a role reaches nothing it does not already reach.
 */
export async function deriveAccountTrust(tx: Transaction<Database>, ctx: EventContext): Promise<EventCounts> {
  const trusts = await sql<AccountTrust>`
    SELECT g.entitlement_id, e.resource_id AS role_arn, g.principal_id AS trusted_account, g.attrs,
           r.attrs -> 'trustPolicy' AS trust_policy
      FROM grants g
      JOIN entitlements e ON e.source_id = g.source_id AND e.id = g.entitlement_id AND e.resource_type = 'iam_role'
                         AND e.slug = ${FixedEntitlementSlug.enum.assignment}::text AND e.deleted_at IS NULL
      JOIN resources r ON r.source_id = g.source_id AND r.type = 'iam_role' AND r.id = e.resource_id
                      AND r.deleted_at IS NULL AND ${seenByRun(ctx, "r")}
     WHERE g.source_id = ${ctx.sourceId} AND g.principal_type = 'aws_account' AND g.revoked_at IS NULL
       AND ${seenByRun(ctx, "g")}`.execute(tx);
  if (trusts.rows.length === 0) return noEvents();
  const identities = await loadIamIdentities(tx, ctx, [
    ...new Set(trusts.rows.map((t) => t.trusted_account)),
  ]);
  const byAccount = new Map<string, IamIdentity[]>();
  for (const p of identities) byAccount.set(p.accountId, [...(byAccount.get(p.accountId) ?? []), p]);
  const grants = trusts.rows.flatMap((t) => expand(t, byAccount.get(t.trusted_account) ?? []));
  return upsertGrants(tx, ctx, ACCOUNT_TRUST_SCOPE, grants);
}

function expand(t: AccountTrust, principals: IamIdentity[]): Grant[] {
  const actions = t.attrs.actions;
  if (Array.isArray(actions) && !actions.includes("sts:AssumeRole")) return [];
  const trustPolicy = policyDocument(t.trust_policy);
  const trusted = evaluateTrust(trustPolicy).trusted.find(
    (x) => x.principalType === "aws_account" && x.principalId === t.trusted_account,
  );
  const trustConditional = t.attrs.conditional === true || trusted?.conditional === true;
  const conditions = trusted?.conditions ?? t.attrs.conditions ?? null;
  const out: Grant[] = [];
  for (const p of principals) {
    if (p.arn === t.role_arn) continue;
    const decision = evaluateIdentity({
      policies: p.policies,
      boundary: p.boundary,
      action: "sts:AssumeRole",
      resource: t.role_arn,
    });
    if (decision.effect !== "allow") continue;
    const denied = trustDenies(trustPolicy, { arn: p.arn, accountId: p.accountId });
    if (denied.unconditional) continue;
    const conditional = trustConditional || decision.conditional || denied.denied || p.boundaryUnknown;
    out.push({
      id: `${grantId(t.entitlement_id, p.type, p.arn)}#account-trust`,
      entitlementId: t.entitlement_id,
      principalType: p.type,
      principalId: p.arn,
      expandable: p.type === "iam_role",
      attrs: {
        derivedFrom: "account-trust",
        trustedAccount: t.trusted_account,
        conditional,
        ...(conditions === null || conditions === undefined ? {} : { conditions }),
        via: {
          trust: { statements: trusted?.statements ?? [] },
          identity: decision.matched.map((m) => ({
            policyId: m.policyId,
            statement: m.statement,
            ...(m.sid === undefined ? {} : { sid: m.sid }),
          })),
        },
      },
    });
  }
  return out;
}
