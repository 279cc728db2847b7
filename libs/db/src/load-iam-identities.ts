import { sql, type Transaction } from "kysely";
import { FixedEntitlementSlug } from "@grantline/contracts";
import type { PolicyRef } from "@grantline/policy";
import type { Database } from "./database.ts";
import { seenByRun, type EventContext } from "./outbox-rows.ts";

/** An IAM user or role with the identity policies AWS evaluates for it. */
export interface IamIdentity {
  type: "iam_user" | "iam_role";
  arn: string;
  accountId: string;
  /** Its inline and attached managed policies; a user's groups' too. */
  policies: PolicyRef[];
  /** Its permissions boundary; null when it has none. */
  boundary: PolicyRef | null;
  /**
   * It has a boundary whose document this source does not hold (GAAD lists only policies something attaches,
   * and a policy used only as a boundary is attached to nothing): what it allows cannot be known.
   */
  boundaryUnknown: boolean;
}

/** The boundary's policy ARN, however the mapper spells attrs.permissionsBoundary (an ARN, or AWS's object). */
function boundaryArn(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (typeof v !== "object" || v === null) return null;
  const o = v as Record<string, unknown>;
  const arn = o.arn ?? o.PermissionsBoundaryArn;
  return typeof arn === "string" ? arn : null;
}

/** A stored policy document, parsed once here: the same document is evaluated against many roles. */
export function policyDocument(v: unknown): PolicyRef["document"] {
  if (typeof v !== "string") return typeof v === "object" ? (v as Record<string, unknown> | null) : null;
  try {
    return JSON.parse(v) as Record<string, unknown>;
  } catch {
    return v;
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

/** Managed policies by ARN, each document parsed once (whether or not this run listed the policy). */
async function policyRefs(
  tx: Transaction<Database>,
  ctx: EventContext,
  ids: string[],
): Promise<Map<string, PolicyRef>> {
  const out = new Map<string, PolicyRef>();
  if (ids.length === 0) return out;
  const rows = await sql<{ id: string; document: unknown }>`
    SELECT id, attrs -> 'document' AS document FROM resources
     WHERE source_id = ${ctx.sourceId} AND type = 'iam_policy' AND id = ANY (${ids}::text[])
       AND deleted_at IS NULL`.execute(tx);
  for (const p of rows.rows) out.set(p.id, { id: p.id, document: policyDocument(p.document) });
  return out;
}

/**
 * The users and roles of `accounts` that this run saw, with their identity policies: inline policies are
 * `inline_policy` resources whose parent is the owner; managed ones are grants on `iam_policy:<arn>:attached`
 * held by the owner; a user's groups are its grants on their `member` entitlements. Only rows this run stamped
 * count (the rest are about to be swept), except the policy documents themselves: an AWS-managed policy is kept
 * whether or not this run listed it.
 */
export async function loadIamIdentities(
  tx: Transaction<Database>,
  ctx: EventContext,
  accounts: string[],
): Promise<IamIdentity[]> {
  if (accounts.length === 0) return [];
  const who = await sql<{ type: "iam_user" | "iam_role"; id: string; account_id: string; boundary: unknown }>`
    SELECT type, id, attrs ->> 'accountId' AS account_id, attrs -> 'permissionsBoundary' AS boundary
      FROM resources
     WHERE source_id = ${ctx.sourceId} AND type IN ('iam_user', 'iam_role') AND deleted_at IS NULL
       AND ${seenByRun(ctx, "resources")} AND attrs ->> 'accountId' = ANY (${accounts}::text[])`.execute(tx);
  const users = who.rows.filter((p) => p.type === "iam_user").map((p) => p.id);
  const groups = await sql<{ group_arn: string; user_arn: string }>`
    SELECT e.resource_id AS group_arn, g.principal_id AS user_arn
      FROM grants g JOIN entitlements e ON e.source_id = g.source_id AND e.id = g.entitlement_id
     WHERE g.source_id = ${ctx.sourceId} AND g.principal_type = 'iam_user' AND g.principal_id = ANY (${users}::text[])
       AND g.revoked_at IS NULL AND ${seenByRun(ctx, "g")}
       AND e.resource_type = 'iam_group' AND e.slug = ${FixedEntitlementSlug.enum.member}::text AND e.deleted_at IS NULL`.execute(
    tx,
  );
  const owners = [...new Set([...who.rows.map((p) => p.id), ...groups.rows.map((g) => g.group_arn)])];
  const ownedBy = new Map<string, PolicyRef[]>();
  const inline = await sql<{ owner: string; id: string; document: unknown }>`
    SELECT parent_id AS owner, id, attrs -> 'document' AS document FROM resources
     WHERE source_id = ${ctx.sourceId} AND type = 'inline_policy' AND parent_id = ANY (${owners}::text[])
       AND deleted_at IS NULL AND ${seenByRun(ctx, "resources")}`.execute(tx);
  for (const p of inline.rows) push(ownedBy, p.owner, { id: p.id, document: policyDocument(p.document) });
  // Pairs first, each document once: a large organization attaches the same few managed policies (some of them
  // 100 KB documents) to tens of thousands of principals, and a document per pair exhausted the writer's heap.
  const attached = await sql<{ owner: string; id: string }>`
    SELECT g.principal_id AS owner, p.id
      FROM grants g
      JOIN entitlements e ON e.source_id = g.source_id AND e.id = g.entitlement_id AND e.resource_type = 'iam_policy'
                         AND e.slug = ${FixedEntitlementSlug.enum.attached}::text AND e.deleted_at IS NULL
      JOIN resources p ON p.source_id = g.source_id AND p.type = 'iam_policy' AND p.id = e.resource_id AND p.deleted_at IS NULL
     WHERE g.source_id = ${ctx.sourceId} AND g.principal_type IN ('iam_user', 'iam_group', 'iam_role')
       AND g.principal_id = ANY (${owners}::text[]) AND g.revoked_at IS NULL AND ${seenByRun(ctx, "g")}`.execute(
    tx,
  );
  const managed = await policyRefs(tx, ctx, [...new Set(attached.rows.map((a) => a.id))]);
  for (const a of attached.rows) {
    const ref = managed.get(a.id);
    if (ref) push(ownedBy, a.owner, ref);
  }
  const boundaryArns = [...new Set(who.rows.map((p) => boundaryArn(p.boundary)).filter((a) => a !== null))];
  const boundaries = await policyRefs(tx, ctx, boundaryArns);
  const groupsOf = new Map<string, string[]>();
  for (const g of groups.rows) push(groupsOf, g.user_arn, g.group_arn);
  return who.rows.map((p) => {
    const arn = boundaryArn(p.boundary);
    return {
      type: p.type,
      arn: p.id,
      accountId: p.account_id,
      policies: [p.id, ...(groupsOf.get(p.id) ?? [])].flatMap((o) => ownedBy.get(o) ?? []),
      boundary: arn === null ? null : (boundaries.get(arn) ?? null),
      boundaryUnknown: arn !== null && !boundaries.has(arn),
    };
  });
}
