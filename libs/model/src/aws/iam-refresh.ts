import {
  PermanentError,
  pageRequest,
  type ObjectSweep,
  type PageRequest,
  type PageResult,
  type RefreshIntent,
  type ResourceType,
  type ResultBatch,
} from "@grantline/contracts";
import { iamGroupMemberEntitlementId, iamKeysScope, iamScope } from "../ids.ts";
import { iamAccountOf, iamAccountRequests } from "./iam-account-requests.ts";
import { mapGaadEntities } from "./map-get-account-authorization-details.ts";
import { batchFor, child, grant, list, optStr, param, str } from "./page-helpers.ts";

/*
 * Targeted refreshes of one IAM entity (docs/freshness-events.md): the composites `iam.Refresh*` (libs/aws
 * refresh-iam-entity.ts) return a GAAD-shaped page with one entry, mapped by the GAAD mapping itself, so a
 * refreshed entity has exactly the rows a full sync gives it (same ids, attrs, scope `iam:<account>`). Instead of
 * closing the account's scope, which would sweep every other entity, a refresh closes with object sweeps of that
 * entity only; a vanished entity (empty list) is all sweeps and no upserts.
 */

type IamOwner = "iam_role" | "iam_user" | "iam_group";

/** Grants an owner's page re-reads: its policies (managed, inline) and, for a user, its group memberships. */
const HELD: Record<IamOwner, ResourceType[]> = {
  iam_role: ["iam_policy", "inline_policy"],
  iam_user: ["iam_policy", "inline_policy", "iam_group"],
  iam_group: ["iam_policy", "inline_policy"],
};

/**
 * The sweeps of one owner: itself (its entitlements and the grants on them: a role's trust, a group's members),
 * the grants it holds that its page re-reads (never the trust grants of other roles that name it: those are
 * theirs), and its inline policies but the ones listed. A user's keys go only with the user.
 */
function ownerSweeps(
  type: IamOwner,
  arn: string,
  accountId: string,
  inline: string[],
  gone: boolean,
): ObjectSweep[] {
  return [
    { kind: "resource", type, id: arn },
    {
      kind: "held-by",
      principalType: type,
      principalId: arn,
      scope: iamScope(accountId),
      resourceTypes: HELD[type],
    },
    { kind: "children", parentType: type, parentId: arn, type: "inline_policy", except: inline },
    ...(gone && type === "iam_user"
      ? [
          {
            kind: "children" as const,
            parentType: type,
            parentId: arn,
            type: "access_key" as const,
            except: [],
          },
        ]
      : []),
  ];
}

/** A refresh never closes its scope (the account's other entities share it): it sweeps objects instead. */
function refreshBatch(res: PageResult, batch: ResultBatch, objectSweeps: ObjectSweep[]): ResultBatch {
  return { ...batch, scopeComplete: false, keepScopes: [], objectSweeps };
}

const KIND: Record<string, { type: IamOwner; list: string; nameParam: string; arnPart: string }> = {
  RefreshRole: { type: "iam_role", list: "RoleDetailList", nameParam: "RoleName", arnPart: "role" },
  RefreshUser: { type: "iam_user", list: "UserDetailList", nameParam: "UserName", arnPart: "user" },
  RefreshGroup: { type: "iam_group", list: "GroupDetailList", nameParam: "GroupName", arnPart: "group" },
};

/**
 * The ARN of a vanished entity: the synced row's (the request's `Arn`, set by `iamRefreshRequests` when the
 * caller knows it), else the ARN of the default path, which is right unless the entity had a path.
 */
function vanishedArn(res: PageResult, arnPart: string, name: string): { arn: string; warning: string[] } {
  const known = optStr(res.request.params, "Arn");
  if (known !== null) return { arn: known, warning: [] };
  const arn = `arn:aws:iam::${iamAccountOf(res)}:${arnPart}/${name}`;
  return {
    arn,
    warning: [
      `iam: ${arn} is gone; its ARN was assumed (path /): a path would leave its rows to the next full sync`,
    ],
  };
}

/** `iam.RefreshRole` / `RefreshUser` / `RefreshGroup`: one owner's rows, then its object sweeps. */
export function mapIamOwnerRefresh(res: PageResult): ResultBatch {
  const k = KIND[res.request.operation];
  if (!k) throw new PermanentError("unknown-operation", `no IAM owner refresh ${res.request.operation}`);
  const accountId = iamAccountOf(res);
  const [entry] = list(res.page, k.list);
  if (!entry) {
    const { arn, warning } = vanishedArn(res, k.arnPart, param(res.request, k.nameParam));
    return refreshBatch(
      res,
      batchFor(res, { warnings: warning }),
      ownerSweeps(k.type, arn, accountId, [], true),
    );
  }
  const arn = str(entry, "Arn");
  const knownGroups = (res.page.GroupArns ?? {}) as Record<string, string>;
  const rows = mapGaadEntities(res, res.page, knownGroups);
  // A group's memberships: GAAD grants them from each user's GroupList; here from the group's member list.
  if (k.type === "iam_group")
    for (const u of list(res.page, "GroupMembers"))
      rows.grants.push(grant(iamGroupMemberEntitlementId(arn), "iam_user", str(u, "Arn"), false));
  // A user's keys have their own refresh (`iam-user-keys`): not re-listed with every user change, unless asked.
  const children =
    k.type === "iam_user" && res.request.params.withKeys === true
      ? rows.children.map((c) => pageRequest({ ...c, params: { ...c.params, sweepKeys: true } }))
      : [];
  const inline = rows.resources.filter((r) => r.type === "inline_policy").map((r) => r.id);
  const batch = batchFor(res, {
    resources: rows.resources,
    entitlements: rows.entitlements,
    grants: rows.grants,
    children,
    warnings: rows.pending.map(
      ([u, g]) => `iam: ${u} is in group ${g}, which ListGroupsForUser did not list`,
    ),
  });
  // A new path (UpdateUser/UpdateGroup `newPath`) moves the entity to another ARN: the synced one is gone.
  const synced = optStr(res.request.params, "Arn");
  const moved = synced !== null && synced !== arn ? ownerSweeps(k.type, synced, accountId, [], true) : [];
  return refreshBatch(res, batch, [...ownerSweeps(k.type, arn, accountId, inline, false), ...moved]);
}

/**
 * `iam.RefreshPolicy`: one managed policy. A customer-managed policy that is gone is swept with its entitlement
 * and the attachments on it. An AWS-managed one is the same object in every account: it is upserted while this
 * account attaches it and otherwise left to the full sync's source-wide sweep (another account may attach it).
 */
export function mapIamPolicyRefresh(res: PageResult): ResultBatch {
  const arn = param(res.request, "PolicyArn");
  const awsManaged = arn.includes(":iam::aws:");
  if (list(res.page, "Policies").length === 0) {
    const sweeps: ObjectSweep[] = awsManaged ? [] : [{ kind: "resource", type: "iam_policy", id: arn }];
    return refreshBatch(res, batchFor(res, {}), sweeps);
  }
  const rows = mapGaadEntities(res, res.page, {});
  return refreshBatch(
    res,
    batchFor(res, { resources: rows.resources, entitlements: rows.entitlements }),
    // An existing policy's rows are only itself: attachments are its owners' grants, not to sweep here.
    [],
  );
}

/** The targeted refresh kinds IAM serves. */
export type IamRefreshIntent = Extract<
  RefreshIntent,
  { kind: "iam-role" | "iam-user" | "iam-group" | "iam-policy" | "iam-user-keys" | "iam-account" }
>;

export interface IamRefreshBase {
  runId: string;
  sourceId: string;
  /** The source's `iam.onlyAttachedPolicies` (as the full sync passes it). @default true */
  onlyAttachedPolicies?: boolean;
  /**
   * The synced ARN of the intent's role, user or group, when the caller knows it (resources of that type named
   * so under the account): sweeps a vanished entity's rows exactly, and lets a keys refresh list keys directly.
   */
  arn?: string | null;
}

/**
 * The page requests of one IAM targeted refresh, in the account the intent names (cross-account exactly as the
 * full sync reads it). `iam-account` is the full sync's own GAAD chain and alias of that account.
 */
export function iamRefreshRequests(intent: IamRefreshIntent, base: IamRefreshBase): PageRequest[] {
  const onlyAttachedPolicies = base.onlyAttachedPolicies ?? true;
  // Requests of a refresh run have no parent page: the run, source and account are the parent.
  const root = { runId: base.runId, sourceId: base.sourceId, accountId: intent.accountId };
  const arn = base.arn ? { Arn: base.arn } : {};
  const scope = iamScope(intent.accountId);
  const common = { onlyAttachedPolicies };
  switch (intent.kind) {
    case "iam-role":
      return [child(root, "iam", "RefreshRole", { RoleName: intent.roleName, ...arn, ...common }, scope)];
    case "iam-user":
      return [child(root, "iam", "RefreshUser", { UserName: intent.userName, ...arn, ...common }, scope)];
    case "iam-group":
      return [child(root, "iam", "RefreshGroup", { GroupName: intent.groupName, ...arn, ...common }, scope)];
    case "iam-policy":
      return [child(root, "iam", "RefreshPolicy", { PolicyArn: intent.policyArn, ...common }, scope)];
    case "iam-user-keys":
      // Keys hang off the user's ARN: listed directly when it is known, else through the user's refresh.
      return base.arn
        ? [
            child(
              root,
              "iam",
              "ListAccessKeys",
              { UserName: intent.userName, UserArn: base.arn, sweepKeys: true },
              iamKeysScope(intent.accountId),
            ),
          ]
        : [
            child(
              root,
              "iam",
              "RefreshUser",
              { UserName: intent.userName, withKeys: true, ...common },
              scope,
            ),
          ];
    case "iam-account":
      return iamAccountRequests(root, intent.accountId, onlyAttachedPolicies);
  }
}
