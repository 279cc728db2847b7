import { sql, type RawBuilder } from "kysely";
import type { Db } from "./create-db.ts";

/*
 * The questions `grantline access` answers, each one read of the `effective_grants` view (migrations 0002, 0004,
 * 0006): direct grants plus grants reached through groups (`member`) and roles (`assignment`), with the derived
 * Identity Center → IAM and account-trust grants, and per row `active`, `conditional`, `derived_from` and the
 * `grant_ids` of the path. Every query runs in its own read-only transaction under a statement timeout, so a plan
 * gone wrong (stale statistics right after a big first load) fails fast and clearly instead of hanging a terminal.
 */

/** How long one access query may run unless the caller says otherwise (`grantline access --timeout`). */
export const DEFAULT_ACCESS_TIMEOUT_MS = 10_000;

export interface AccessOptions {
  /** Postgres statement timeout for the query, ms. @default DEFAULT_ACCESS_TIMEOUT_MS */
  timeoutMs?: number;
  /** Keep rows with `active = false` (a disabled user, a suspended account); they are counted and dropped otherwise. */
  includeInactive?: boolean;
}

/** Rows of one question; `hiddenInactive` counts the inactive rows left out (0 with `includeInactive`). */
export interface AccessResult<T> {
  rows: T[];
  hiddenInactive: number;
}

/** The access query ran past its statement timeout; Postgres cancelled it. */
export class AccessQueryTimeout extends Error {
  constructor(
    readonly question: string,
    readonly timeoutMs: number,
  ) {
    super(`${question} ran past its statement timeout of ${timeoutMs} ms`);
    this.name = "AccessQueryTimeout";
  }
}

/** What every path row says about itself, as `effective_grants` computes it. */
interface PathColumns {
  via_type: string | null;
  via_id: string | null;
  /** 0: a direct grant; 1: through one group or role; 2+: a chain. */
  depth: number;
  /** The principals walked, `type/id`, the direct grantee first. */
  path: string[];
  /** Some grant on the path carries conditions (trust-policy Condition). */
  conditional: boolean;
  /** 'identity-center' | 'account-trust' when the path starts with a grant derived at run end; else null. */
  derived_from: string | null;
  /** False for a disabled Identity Center user or when the target's or principal's account is suspended. */
  active: boolean;
}

/** One way a principal reaches an account (`grantline access who`). */
export interface AccountAccess extends PathColumns {
  principal_type: string;
  principal_id: string;
  /** The principal's name as last synced; null when it is not (or no longer) a known resource. */
  principal_name: string | null;
  entitlement_id: string;
  /** The permission set's name for an account × permission-set entitlement, else the entitlement's name. */
  entitlement_name: string;
}

/** One thing a principal reaches (`grantline access of`). */
export interface PrincipalAccess extends PathColumns {
  principal_type: string;
  principal_id: string;
  resource_type: string;
  resource_id: string;
  resource_name: string | null;
  slug: string;
  entitlement_id: string;
  entitlement_name: string;
}

/**
 * One grant on a path, as stored, with the names of what it joins. `attrs` is the grant's own JSON: a trust
 * grant's `actions` / `conditional` / `conditions`, a derived grant's `derivedFrom`, `via`, `viaEntitlement`…
 */
export interface PathGrant {
  grant_id: string;
  entitlement_id: string;
  resource_type: string;
  resource_id: string;
  resource_name: string | null;
  slug: string;
  entitlement_name: string;
  entitlement_attrs: Record<string, unknown>;
  principal_type: string;
  principal_id: string;
  principal_name: string | null;
  attrs: Record<string, unknown>;
  /** For a grant derived from an Identity Center assignment: the permission set's name (attrs.viaEntitlement). */
  via_entitlement_name: string | null;
}

/** One path from a principal to a target, with every grant on it (`grants[0]` is the grant on the target). */
export interface AccessPath extends PrincipalAccess {
  principal_name: string | null;
  grants: PathGrant[];
}

/** A principal's id, or the name of a synced user, group or role (names are what people know). */
export interface PrincipalMatch {
  principal_type: string;
  principal_id: string;
  name: string;
}

const PRINCIPAL_RESOURCE_TYPES = ["sso_user", "sso_group", "iam_user", "iam_group", "iam_role"];

/**
 * Runs `query` in a read-only transaction with a local statement timeout, turning Postgres's cancellation
 * (SQLSTATE 57014) into `AccessQueryTimeout`.
 */
async function timed<T>(
  db: Db,
  question: string,
  options: AccessOptions,
  query: RawBuilder<T>,
): Promise<T[]> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_ACCESS_TIMEOUT_MS;
  try {
    return await db
      .transaction()
      .setAccessMode("read only")
      .execute(async (tx) => {
        await sql`SELECT set_config('statement_timeout', ${String(timeoutMs)}, true)`.execute(tx);
        return (await query.execute(tx)).rows;
      });
  } catch (err) {
    if ((err as { code?: unknown }).code === "57014") throw new AccessQueryTimeout(question, timeoutMs);
    throw err;
  }
}

function split<T extends { active: boolean }>(rows: T[], options: AccessOptions): AccessResult<T> {
  if (options.includeInactive) return { rows, hiddenInactive: 0 };
  const active = rows.filter((r) => r.active);
  return { rows: active, hiddenInactive: rows.length - active.length };
}

const pathColumns = sql`eg.via_type, eg.via_id, eg.depth, eg.path, eg.conditional, eg.derived_from, eg.active`;

/** The permission set's name for an account × permission set entitlement (its attrs carry it), else the name. */
const entitlementName = sql`coalesce(e.attrs->>'permissionSetName', e.name)`;

/** Every grant of a path row (`eg`) in path order, with names, as one JSON array. */
const pathGrants = sql`coalesce((
  SELECT jsonb_agg(jsonb_build_object(
           'grant_id', g.id, 'entitlement_id', g.entitlement_id, 'resource_type', ge.resource_type,
           'resource_id', ge.resource_id, 'resource_name', gr.name, 'slug', ge.slug, 'entitlement_name', ge.name,
           'entitlement_attrs', ge.attrs, 'principal_type', g.principal_type, 'principal_id', g.principal_id,
           'principal_name', gp.name, 'attrs', g.attrs, 'via_entitlement_name', coalesce(ve.attrs->>'permissionSetName', ve.name))
           ORDER BY u.ord)
    FROM unnest(eg.grant_ids) WITH ORDINALITY AS u(id, ord)
    JOIN grants g ON g.source_id = eg.source_id AND g.id = u.id
    JOIN entitlements ge ON ge.source_id = g.source_id AND ge.id = g.entitlement_id
    LEFT JOIN resources gr ON gr.source_id = ge.source_id AND gr.type = ge.resource_type AND gr.id = ge.resource_id
    LEFT JOIN resources gp ON gp.source_id = g.source_id AND gp.type = g.principal_type AND gp.id = g.principal_id
    LEFT JOIN entitlements ve ON ve.source_id = g.source_id AND ve.id = g.attrs->>'viaEntitlement'
), '[]'::jsonb)`;

/** Who can reach the account (its permission-set entitlements), directly, through a group or a role chain. */
export async function accessToAccount(
  db: Db,
  accountId: string,
  options: AccessOptions = {},
): Promise<AccessResult<AccountAccess>> {
  const rows = await timed(
    db,
    `access who ${accountId}`,
    options,
    sql<AccountAccess>`
      SELECT eg.principal_type, eg.principal_id, p.name AS principal_name, eg.entitlement_id,
             ${entitlementName} AS entitlement_name, ${pathColumns}
        FROM effective_grants eg
        JOIN entitlements e ON e.source_id = eg.source_id AND e.id = eg.entitlement_id
        LEFT JOIN resources p ON p.source_id = eg.source_id AND p.type = eg.principal_type AND p.id = eg.principal_id
       WHERE eg.resource_type = 'account' AND eg.resource_id = ${accountId}
       ORDER BY eg.principal_type, eg.principal_id, eg.entitlement_id, eg.depth, eg.via_id`,
  );
  return split(rows, options);
}

const principalAccessColumns = sql`eg.principal_type, eg.principal_id, eg.resource_type, eg.resource_id,
  r.name AS resource_name, eg.slug, eg.entitlement_id, ${entitlementName} AS entitlement_name, ${pathColumns}`;

const principalAccessJoins = sql`
  JOIN entitlements e ON e.source_id = eg.source_id AND e.id = eg.entitlement_id
  LEFT JOIN resources r ON r.source_id = eg.source_id AND r.type = eg.resource_type AND r.id = eg.resource_id`;

/**
 * The principals `idOrName` names: itself as an id (any principal type, a resource or not) and every synced
 * user, group or role of that name. Names are not unique (a user and a group, two accounts' roles), hence a list.
 */
export async function matchPrincipals(
  db: Db,
  idOrName: string,
  options: AccessOptions = {},
): Promise<PrincipalMatch[]> {
  return timed(
    db,
    `looking up principal ${idOrName}`,
    options,
    sql<PrincipalMatch>`
      SELECT DISTINCT type AS principal_type, id AS principal_id, name FROM resources
       WHERE deleted_at IS NULL AND type IN (${sql.join(PRINCIPAL_RESOURCE_TYPES)}) AND (id = ${idOrName} OR name = ${idOrName})
       ORDER BY 1, 2`,
  );
}

/** What a user, group or role (by id) can reach, directly or through groups and roles, in every source. */
export async function accessOfPrincipal(
  db: Db,
  principalIds: string[],
  options: AccessOptions = {},
): Promise<AccessResult<PrincipalAccess>> {
  const rows = await timed(
    db,
    `access of ${principalIds.join(", ")}`,
    options,
    sql<PrincipalAccess>`
      SELECT ${principalAccessColumns}
        FROM effective_grants eg ${principalAccessJoins}
       WHERE eg.principal_id = ANY (${principalIds}::text[])
       ORDER BY eg.resource_type, eg.resource_id, eg.slug, eg.depth, eg.via_id`,
  );
  return split(rows, options);
}

/** Paths with their grants (`AccessPath`) that match `where`, for can-assume and explain. */
async function accessPaths(
  db: Db,
  question: string,
  options: AccessOptions,
  where: RawBuilder<unknown>,
  orderBy: RawBuilder<unknown>,
): Promise<AccessResult<AccessPath>> {
  const rows = await timed(
    db,
    question,
    options,
    sql<AccessPath>`
      SELECT ${principalAccessColumns}, p.name AS principal_name, ${pathGrants} AS grants
        FROM effective_grants eg ${principalAccessJoins}
        LEFT JOIN resources p ON p.source_id = eg.source_id AND p.type = eg.principal_type AND p.id = eg.principal_id
       WHERE ${where}
       ORDER BY ${orderBy}`,
  );
  return split(rows, options);
}

/**
 * Who can assume the role, by every path: direct trust, a group's Identity Center assignment to the reserved
 * role, account-root trust expanded through identity policies, role chains — each with its grants (conditions).
 */
export function roleAssumers(
  db: Db,
  roleArn: string,
  options: AccessOptions = {},
): Promise<AccessResult<AccessPath>> {
  return accessPaths(
    db,
    `access can-assume ${roleArn}`,
    options,
    sql`eg.resource_type = 'iam_role' AND eg.resource_id = ${roleArn} AND eg.slug = 'assignment'`,
    sql`eg.principal_type, eg.principal_id, eg.depth, eg.via_id`,
  );
}

/**
 * Every path from the principals to the target. An account target (12 digits) covers the account's
 * permission-set entitlements and the roles in that account (role ARNs whose account field is the account); a
 * role ARN covers that role.
 */
export function explainAccess(
  db: Db,
  principalIds: string[],
  target: string,
  options: AccessOptions = {},
): Promise<AccessResult<AccessPath>> {
  const onTarget = /^\d{12}$/.test(target)
    ? sql`((eg.resource_type = 'account' AND eg.resource_id = ${target})
           OR (eg.resource_type = 'iam_role' AND eg.slug = 'assignment' AND split_part(eg.resource_id, ':', 5) = ${target}))`
    : sql`(eg.resource_type = 'iam_role' AND eg.slug = 'assignment' AND eg.resource_id = ${target})`;
  return accessPaths(
    db,
    `access explain ${principalIds.join(", ")} ${target}`,
    options,
    sql`eg.principal_id = ANY (${principalIds}::text[]) AND ${onTarget}`,
    sql`eg.resource_type, eg.resource_id, eg.slug, eg.depth, eg.via_id`,
  );
}
