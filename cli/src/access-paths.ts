import { z } from "zod";
import type { AccessPath, PathGrant } from "@grantline/db";

/*
 * A path row of `effective_grants` lists its grants from the target outwards (grant_ids: the grant on the target
 * first, the principal's own grant last). People read access the other way — "alice is in Admins, Admins has
 * the Admin permission set on prod, which lets her assume the reserved role" — so steps run principal → target,
 * one per grant, each saying which relation it is and reading the grant's attrs for the why (conditions, trust
 * statements, identity-policy statements, the Identity Center assignment a reserved-role grant comes from).
 */

/** A principal or resource as the step names it. */
export interface Ref {
  type: string;
  id: string;
  name: string | null;
}

/**
 * attrs of a trust grant (libs/model) and of the two derived kinds (libs/db at run end). Each field is read on
 * its own (`catch`): a field of an unexpected shape is left out rather than losing the rest of the explanation.
 */
const GrantAttrs = z.object({
  actions: z.array(z.string()).optional().catch(undefined),
  statements: z.array(z.number()).optional().catch(undefined),
  conditional: z.boolean().optional().catch(undefined),
  conditions: z.unknown().optional(),
  derivedFrom: z.enum(["identity-center", "account-trust"]).optional().catch(undefined),
  accountId: z.string().optional().catch(undefined),
  permissionSetArn: z.string().optional().catch(undefined),
  trustedAccount: z.string().optional().catch(undefined),
  via: z
    .object({
      trust: z
        .object({ statements: z.array(z.number()) })
        .optional()
        .catch(undefined),
      identity: z
        .array(z.object({ policyId: z.string(), statement: z.number(), sid: z.string().optional() }))
        .optional()
        .catch(undefined),
    })
    .optional()
    .catch(undefined),
});
type GrantAttrs = z.infer<typeof GrantAttrs>;

const EntitlementAttrs = z.object({ permissionSetName: z.string().optional() });

/** One step of a path, principal → target; `grantId` is the grant it stands for. */
export type PathStep = { grantId: string; principal: Ref } & (
  | { kind: "member"; group: Ref }
  | { kind: "permission-set"; account: Ref; permissionSet: { arn: string; name: string | null } }
  | {
      kind: "identity-center";
      role: Ref;
      account: string | null;
      permissionSet: { arn: string | null; name: string | null };
    }
  | {
      kind: "trust";
      role: Ref;
      actions: string[] | null;
      statements: number[] | null;
      conditional: boolean;
      conditions: unknown;
    }
  | {
      kind: "account-trust";
      role: Ref;
      trustedAccount: string | null;
      trustStatements: number[];
      identityStatements: Array<{ policyId: string; statement: number; sid?: string }>;
      conditional: boolean;
      conditions: unknown;
    }
  | { kind: "grant"; entitlement: { id: string; slug: string; name: string }; resource: Ref }
);

/** One path, structured (`--json` of can-assume and explain). */
export interface StructuredPath {
  principal: Ref;
  target: Ref & { entitlement: string; slug: string };
  depth: number;
  conditional: boolean;
  derivedFrom: string | null;
  active: boolean;
  steps: PathStep[];
}

function attrsOf(g: PathGrant): GrantAttrs {
  const r = GrantAttrs.safeParse(g.attrs);
  return r.success ? r.data : {};
}

function stepOf(g: PathGrant): PathStep {
  const principal: Ref = { type: g.principal_type, id: g.principal_id, name: g.principal_name };
  const resource: Ref = { type: g.resource_type, id: g.resource_id, name: g.resource_name };
  const a = attrsOf(g);
  const base = { grantId: g.grant_id, principal };
  if (g.slug === "member") return { ...base, kind: "member", group: resource };
  if (g.slug.startsWith("permission-set:")) {
    const e = EntitlementAttrs.safeParse(g.entitlement_attrs);
    return {
      ...base,
      kind: "permission-set",
      account: resource,
      permissionSet: {
        arn: g.slug.slice("permission-set:".length),
        name: (e.success ? e.data.permissionSetName : undefined) ?? null,
      },
    };
  }
  if (g.slug === "assignment" && a.derivedFrom === "identity-center")
    return {
      ...base,
      kind: "identity-center",
      role: resource,
      account: a.accountId ?? null,
      permissionSet: { arn: a.permissionSetArn ?? null, name: g.via_entitlement_name },
    };
  if (g.slug === "assignment" && a.derivedFrom === "account-trust")
    return {
      ...base,
      kind: "account-trust",
      role: resource,
      trustedAccount: a.trustedAccount ?? null,
      trustStatements: a.via?.trust?.statements ?? [],
      identityStatements: a.via?.identity ?? [],
      conditional: a.conditional ?? false,
      conditions: a.conditions ?? null,
    };
  if (g.slug === "assignment")
    return {
      ...base,
      kind: "trust",
      role: resource,
      actions: a.actions ?? null,
      statements: a.statements ?? null,
      conditional: a.conditional ?? a.conditions !== undefined,
      conditions: a.conditions ?? null,
    };
  return {
    ...base,
    kind: "grant",
    entitlement: { id: g.entitlement_id, slug: g.slug, name: g.entitlement_name },
    resource,
  };
}

/** The path's grants as steps from the principal to the target. */
export function structuredPath(row: AccessPath): StructuredPath {
  const steps = [...row.grants].reverse().map(stepOf);
  return {
    principal: { type: row.principal_type, id: row.principal_id, name: row.principal_name },
    target: {
      type: row.resource_type,
      id: row.resource_id,
      name: row.resource_name,
      entitlement: row.entitlement_id,
      slug: row.slug,
    },
    depth: row.depth,
    conditional: row.conditional,
    derivedFrom: row.derived_from,
    active: row.active,
    steps,
  };
}

/**
 * `name (type id)`; for a named ARN `name (type in <account>)`, since the ARN repeats the name and buries the
 * account (`--json` keeps every id whole); `type id` for an unnamed principal (an account, `*`, a service).
 */
export function refText(r: Ref): string {
  if (!r.name || r.name === r.id) return `${r.type} ${r.id}`;
  const account = /^arn:aws[a-z-]*:[a-z0-9-]+::(\d{12}):/.exec(r.id)?.[1];
  return `${r.name} (${r.type} ${account ? `in ${account}` : r.id})`;
}

const conditionsText = (c: unknown): string =>
  c === null || c === undefined ? "" : ` if ${JSON.stringify(c)}`;

/** One step, as a sentence about the principal. */
export function stepText(s: PathStep): string {
  const who = refText(s.principal);
  switch (s.kind) {
    case "member":
      return `${who} is a member of ${refText(s.group)}`;
    case "permission-set":
      return `${who} is assigned permission set ${s.permissionSet.name ?? s.permissionSet.arn} on account ${refText(s.account)}`;
    case "identity-center":
      return `${who} may assume ${refText(s.role)}: the Identity Center reserved role of permission set ${s.permissionSet.name ?? s.permissionSet.arn ?? "?"} in account ${s.account ?? "?"}`;
    case "trust":
      return `${who} may assume ${refText(s.role)}: its trust policy names ${s.principal.type === "aws_account" ? "the account" : "it"}${s.statements ? ` (statement ${s.statements.join(", ")})` : ""}${s.actions ? `, actions ${s.actions.join(", ")}` : ""}${conditionsText(s.conditions)}`;
    case "account-trust":
      return `${who} may assume ${refText(s.role)}: its trust policy trusts account ${s.trustedAccount ?? "?"}${s.trustStatements.length ? ` (statement ${s.trustStatements.join(", ")})` : ""} and ${s.identityStatements.length ? `identity policy ${s.identityStatements.map((x) => `${x.policyId} statement ${x.statement}${x.sid ? ` (${x.sid})` : ""}`).join("; ")} allows` : "its identity policies allow"} sts:AssumeRole on it${conditionsText(s.conditions)}`;
    case "grant":
      return `${who} holds ${s.entitlement.name} (${s.entitlement.slug}) on ${refText(s.resource)}`;
  }
}

/** The markers of a row: what a reader must know before trusting it. */
export function markers(r: { conditional: boolean; derived_from: string | null; active: boolean }): string[] {
  return [
    ...(r.conditional ? ["conditional"] : []),
    ...(r.derived_from ? [`derived:${r.derived_from}`] : []),
    ...(r.active ? [] : ["inactive"]),
  ];
}

/** A path for people: a header line, then its numbered steps. */
export function pathText(p: StructuredPath, rowMarkers: string[]): string {
  const head = `${refText(p.principal)} → ${refText(p.target)}${p.target.type === "account" ? ` [${p.target.slug}]` : ""}${rowMarkers.length ? `  [${rowMarkers.join(", ")}]` : ""}`;
  return [head, ...p.steps.map((s, i) => `  ${i + 1}. ${stepText(s)}`)].join("\n");
}
