import type { AccessPath, AccessResult, AccountAccess, PrincipalAccess } from "@grantline/db";
import { markers, pathText, refText, structuredPath } from "./access-paths.ts";

/** Columns padded to their widest cell; the last column is not padded (no trailing blanks). */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/**
 * The groups and roles a path goes through, from the principal's side: `sso_group/g`, `iam_role/a → iam_role/b`
 * (a role by the last segment of its ARN, its name).
 */
function viaText(r: { depth: number; path: string[] }): string {
  if (r.depth === 0) return "direct";
  const short = (p: string) => p.replace(/^(\w+)\/arn:.*\/([^/]+)$/, "$1/$2");
  return r.path.slice(0, -1).reverse().map(short).join(" → ");
}

const named = (name: string | null, type: string, id: string): string => refText({ type, id, name });

/** The closing line: how many rows, and how many inactive ones were left out and how to see them. */
function footer(result: AccessResult<unknown>, what: string): string {
  const n = result.rows.length;
  const hidden = result.hiddenInactive
    ? `; ${result.hiddenInactive} inactive hidden (disabled users, suspended accounts: --include-inactive shows them)`
    : "";
  return `${n} ${what}${n === 1 ? "" : "s"}${hidden}`;
}

export function whoText(accountId: string, result: AccessResult<AccountAccess>): string {
  const rows = result.rows.map((r) => [
    named(r.principal_name, r.principal_type, r.principal_id),
    r.entitlement_name,
    viaText(r),
    markers(r).join(", "),
  ]);
  const body = rows.length
    ? table(["PRINCIPAL", "PERMISSION SET", "VIA", "MARKERS"], rows)
    : `nobody can reach account ${accountId}`;
  return `${body}\n${footer(result, "path")}`;
}

export function ofText(principal: string, result: AccessResult<PrincipalAccess>): string {
  // A name can match several principals (a user and a group): say which one each row is for.
  const several = new Set(result.rows.map((x) => x.principal_id)).size > 1;
  const rows = result.rows.map((r) => [
    named(r.resource_name, r.resource_type, r.resource_id),
    r.entitlement_name,
    ...(several ? [`${r.principal_type} ${r.principal_id}`] : []),
    viaText(r),
    markers(r).join(", "),
  ]);
  const body = rows.length
    ? table(["RESOURCE", "ENTITLEMENT", ...(several ? ["AS"] : []), "VIA", "MARKERS"], rows)
    : `${principal} reaches nothing`;
  return `${body}\n${footer(result, "path")}`;
}

/** can-assume and explain: each path step by step. */
export function pathsText(empty: string, result: AccessResult<AccessPath>): string {
  const body = result.rows.length
    ? result.rows.map((r) => pathText(structuredPath(r), markers(r))).join("\n\n")
    : empty;
  return `${body}\n\n${footer(result, "path")}`;
}

/** can-assume and explain as JSON: the paths structured, and the count of hidden inactive ones. */
export function pathsJson(result: AccessResult<AccessPath>): unknown {
  return { paths: result.rows.map(structuredPath), hiddenInactive: result.hiddenInactive };
}
