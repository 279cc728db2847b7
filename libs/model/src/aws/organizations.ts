import type { PageRequest, PageResult, Resource, ResultBatch } from "@grantline/contracts";
import { iamScope } from "../ids.ts";
import { iamAccountRequests } from "./iam-account-requests.ts";
import { policyTypeRequests } from "./org-policies.ts";
import { batchFor, child, list, optStr, param, str, vanishedBatch } from "./page-helpers.ts";

/** Scope of the organization-wide rows; swept by the source-wide sweep at the end of a full run. */
const NO_SCOPE = null;

export function mapDescribeOrganization(res: PageResult): ResultBatch {
  const o = res.page.Organization as Record<string, unknown> | undefined;
  const id = str(o, "Id");
  return batchFor(res, {
    resources: [
      {
        type: "organization",
        id,
        parentType: null,
        parentId: null,
        name: id,
        attrs: {
          arn: optStr(o, "Arn"),
          managementAccountId: optStr(o, "MasterAccountId"),
          featureSet: optStr(o, "FeatureSet"),
        },
      },
    ],
  });
}

/**
 * Roots: the organization's id is in a root's ARN (`…:root/o-xxx/r-xxx`). A root also reports which policy types
 * are enabled in it, which decides whether its SCPs and RCPs are read.
 */
export function mapListRoots(res: PageResult): ResultBatch {
  const roots = list(res.page, "Roots");
  return batchFor(res, {
    resources: roots.map((r) => {
      const arn = optStr(r, "Arn") ?? "";
      const orgId = /:root\/(o-[a-z0-9]+)\//.exec(arn)?.[1] ?? null;
      return {
        type: "root",
        id: str(r, "Id"),
        parentType: orgId ? "organization" : null,
        parentId: orgId,
        name: optStr(r, "Name") ?? str(r, "Id"),
        attrs: {
          arn,
          policyTypes: list(r, "PolicyTypes")
            .map((t) => ({ type: optStr(t, "Type"), status: optStr(t, "Status") }))
            .sort((a, b) => (a.type ?? "").localeCompare(b.type ?? "")),
        },
      };
    }),
    children: roots.flatMap((r) => [
      child(
        res.request,
        "organizations",
        "ListOrganizationalUnitsForParent",
        { ParentId: str(r, "Id"), ...sweepChildren(res.request) },
        NO_SCOPE,
      ),
      ...policyTypeRequests(res.request, r),
    ]),
  });
}

/**
 * A targeted refresh of the tree (`organization-tree`) walks it with this param: each parent's last page deletes
 * the OUs under it that the walk did not see. A full run leaves that to its source-wide sweep (an OU moved
 * between two parents would otherwise be deleted and recreated when the old parent's page comes first).
 */
export const SWEEP_CHILDREN_PARAM = "SweepChildren";

function sweepChildren(r: PageRequest): Record<string, unknown> {
  return r.params[SWEEP_CHILDREN_PARAM] === true ? { [SWEEP_CHILDREN_PARAM]: true } : {};
}

export function mapListOrganizationalUnitsForParent(res: PageResult): ResultBatch {
  const parentId = param(res.request, "ParentId");
  const batch = mapOrganizationalUnits(res, parentId);
  const parentType = parentId.startsWith("r-") ? "root" : "organizational_unit";
  return res.request.params[SWEEP_CHILDREN_PARAM] === true && batch.scopeComplete
    ? {
        ...batch,
        objectSweeps: [{ kind: "children", parentType, parentId, type: "organizational_unit", except: [] }],
      }
    : batch;
}

function mapOrganizationalUnits(res: PageResult, parentId: string): ResultBatch {
  const ous = list(res.page, "OrganizationalUnits");
  return batchFor(res, {
    resources: ous.map((ou) => ({
      type: "organizational_unit",
      id: str(ou, "Id"),
      parentType: parentId.startsWith("r-") ? "root" : "organizational_unit",
      parentId,
      name: optStr(ou, "Name") ?? str(ou, "Id"),
      attrs: { arn: optStr(ou, "Arn") },
    })),
    children: ous.map((ou) =>
      child(
        res.request,
        "organizations",
        "ListOrganizationalUnitsForParent",
        { ParentId: str(ou, "Id"), ...sweepChildren(res.request) },
        NO_SCOPE,
      ),
    ),
  });
}

/**
 * Accounts are written once per run, with their parent: the fetcher reads each listed account's parents into the
 * ListAccounts page (libs/aws list-with-details.ts), and each account is mapped here exactly as its ListParents
 * page would map it. An account the page has no parents for (denied, gone since the list, or a page from a fetcher
 * older than that) gets its own ListParents task, which carries the account's fields and writes it. Writing an
 * account twice per run (parent unknown, then known) would report a spurious update every run.
 */
export function mapListAccounts(res: PageResult): ResultBatch {
  const accounts = list(res.page, "Accounts");
  const p = res.request.params;
  const iam =
    p.iamCrossAccount === true
      ? { iamCrossAccount: true, iamOnlyAttachedPolicies: p.iamOnlyAttachedPolicies !== false }
      : {};
  const resources: Resource[] = [];
  const children: PageRequest[] = [];
  for (const a of accounts) {
    const request = listParentsRequest(res.request, a, iam);
    if (!Array.isArray(a.Parents)) {
      children.push(request);
      continue;
    }
    // The account's own ListParents page, answered by the list: the same rows and the same IAM tasks.
    const own = mapListParents({ ...res, request, page: { Parents: a.Parents } });
    resources.push(
      ...own.resources.map((r) => ({ ...r, scope: r.scope === undefined ? own.scope : r.scope })),
    );
    children.push(...own.children);
  }
  return batchFor(res, { resources, children });
}

/** The account's ListParents task, carrying its fields (AWS's `Account` shape, as ListAccounts and DescribeAccount answer it). */
function listParentsRequest(
  parent: PageRequest,
  a: Record<string, unknown>,
  iam: Record<string, unknown>,
): PageRequest {
  return child(
    parent,
    "organizations",
    "ListParents",
    {
      ChildId: str(a, "Id"),
      Account: {
        name: optStr(a, "Name") ?? str(a, "Id"),
        email: optStr(a, "Email"),
        status: optStr(a, "Status"),
        state: optStr(a, "State"),
        arn: optStr(a, "Arn"),
        joinedMethod: optStr(a, "JoinedMethod"),
        joinedTimestamp: optStr(a, "JoinedTimestamp"),
      },
      ...iam,
    },
    NO_SCOPE,
  );
}

/**
 * A targeted refresh of one account: its fields now, written with its parent by the ListParents task exactly as
 * a full run writes it (the same request, so the same row and no spurious update). With cross-account IAM the
 * request carries the same flags ListAccounts gives a full run's ListParents: an ACTIVE account's IAM is read,
 * and one no longer ACTIVE loses its IAM rows (see mapListParents).
 */
export function mapDescribeAccount(res: PageResult): ResultBatch {
  const a = res.page.Account as Record<string, unknown> | undefined;
  const p = res.request.params;
  const iam =
    p.iamCrossAccount === true
      ? {
          iamCrossAccount: true,
          iamOnlyAttachedPolicies: p.iamOnlyAttachedPolicies !== false,
          iamRefresh: true,
        }
      : {};
  return batchFor(res, { children: [listParentsRequest(res.request, a ?? {}, iam)] });
}

/**
 * An account that left the organization: it goes, with its account × permission-set entitlements and their
 * grants, and (cross-account IAM) its IAM rows — what a full run's source sweep would remove.
 */
export function mapVanishedAccount(res: PageResult): ResultBatch {
  const id = param(res.request, "AccountId");
  return vanishedBatch(res, [
    { kind: "resource", type: "account", id },
    // The SCPs/RCPs attached to it: no policy's target list names it any more.
    { kind: "held-by", principalType: "account", principalId: id, scope: null },
    ...(res.request.params.iamCrossAccount === true ? [{ kind: "scope" as const, scope: iamScope(id) }] : []),
  ]);
}

/** Account states in which its principals cannot act: suspended, closing, or closed. */
const INACTIVE_STATES: ReadonlySet<string> = new Set(["SUSPENDED", "PENDING_CLOSURE", "CLOSED"]);

export function mapListParents(res: PageResult): ResultBatch {
  const id = param(res.request, "ChildId");
  const a = (res.request.params.Account ?? {}) as Record<string, unknown>;
  const parent = list(res.page, "Parents")[0];
  const parentId = parent ? str(parent, "Id") : null;
  const status = optStr(a, "status");
  // `State` replaces `Status` (retired 2026-09-09) and adds CLOSED; an older answer has only Status.
  const state = optStr(a, "state") ?? status;
  // Cross-account IAM: the same request the caller's own account gets from GetCallerIdentity (deduplicated by id).
  const iam =
    res.request.params.iamCrossAccount === true && state === "ACTIVE"
      ? iamAccountRequests(res.request, id, res.request.params.iamOnlyAttachedPolicies !== false)
      : [];
  // A targeted refresh of an account no longer ACTIVE: a full run would not read its IAM and its source sweep
  // would remove those rows; a refresh has no source sweep, so it removes them here.
  const dropIam =
    res.request.params.iamRefresh === true &&
    res.request.params.iamCrossAccount === true &&
    state !== "ACTIVE";
  return {
    ...batchFor({ ...res, page: {} }, { children: iam }),
    ...(dropIam ? { objectSweeps: [{ kind: "scope" as const, scope: iamScope(id) }] } : {}),
    resources: [
      {
        type: "account",
        id,
        parentType: parentId === null ? null : parentId.startsWith("r-") ? "root" : "organizational_unit",
        parentId,
        name: optStr(a, "name") ?? id,
        attrs: {
          email: optStr(a, "email"),
          status,
          state,
          suspended: state !== null && INACTIVE_STATES.has(state),
          arn: optStr(a, "arn"),
          joinedMethod: optStr(a, "joinedMethod"),
          joinedTimestamp: optStr(a, "joinedTimestamp"),
        },
      },
    ],
  };
}
