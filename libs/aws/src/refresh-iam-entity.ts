import { PermanentError } from "@grantline/contracts";
import { awsErrorCode } from "./classify-aws-error.ts";

/** The targeted IAM composites: one entity, re-read with the IAM read APIs instead of the account's GAAD. */
export const IAM_REFRESH_COMPOSITES = [
  "RefreshRole",
  "RefreshUser",
  "RefreshGroup",
  "RefreshPolicy",
] as const;
export type IamRefreshComposite = (typeof IAM_REFRESH_COMPOSITES)[number];

/** The IAM read calls the composites are made of: internal to them, never pages of their own (policies allow each). */
export const IAM_REFRESH_CALLS = [
  "GetRole",
  "ListAttachedRolePolicies",
  "ListRolePolicies",
  "GetRolePolicy",
  "GetUser",
  "ListGroupsForUser",
  "ListAttachedUserPolicies",
  "ListUserPolicies",
  "GetUserPolicy",
  "GetGroup",
  "ListAttachedGroupPolicies",
  "ListGroupPolicies",
  "GetGroupPolicy",
  "GetPolicy",
  "GetPolicyVersion",
] as const;
export type IamRefreshCall = (typeof IAM_REFRESH_CALLS)[number];

/** One budgeted IAM call of the request being served; resolves to the JSON page (`toJsonPage`). */
export type IamCall = (
  operation: IamRefreshCall,
  input: Record<string, unknown>,
) => Promise<Record<string, unknown>>;

type Item = Record<string, unknown>;

/** The entity is gone (deleted, or deleted between two of the composite's calls). */
class Gone extends Error {}

const pick = (o: Item, keys: readonly string[]): Item =>
  Object.fromEntries(keys.filter((k) => o[k] !== undefined && o[k] !== null).map((k) => [k, o[k]]));

/**
 * The members GetAccountAuthorizationDetails has for each entity (its RoleDetail, UserDetail, GroupDetail and
 * ManagedPolicyDetail shapes): Get* return more (a role's Description, a user's PasswordLastUsed), and a refreshed
 * entity must map to exactly the rows the full sync's GAAD gives it, or every full run would undo its update.
 */
const ROLE_DETAIL = [
  "Path",
  "RoleName",
  "RoleId",
  "Arn",
  "CreateDate",
  "AssumeRolePolicyDocument",
  "PermissionsBoundary",
  "Tags",
];
const USER_DETAIL = ["Path", "UserName", "UserId", "Arn", "CreateDate", "PermissionsBoundary", "Tags"];
const GROUP_DETAIL = ["Path", "GroupName", "GroupId", "Arn", "CreateDate"];
const POLICY_DETAIL = [
  "PolicyName",
  "PolicyId",
  "Arn",
  "Path",
  "DefaultVersionId",
  "AttachmentCount",
  "PermissionsBoundaryUsageCount",
  "IsAttachable",
  "Description",
  "CreateDate",
  "UpdateDate",
];

function name(params: Item, key: string, composite: string): string {
  const v = params[key];
  if (typeof v !== "string" || v === "")
    throw new PermanentError("invalid-params", `iam ${composite} needs string param ${key}`);
  return v;
}

/**
 * The targeted IAM page of one entity, shaped like a GetAccountAuthorizationDetails page with one entry
 * (`RoleDetailList` / `UserDetailList` / `GroupDetailList` / `Policies`), or with an empty list when the entity is
 * gone (NoSuchEntity). A user's page adds `GroupArns` (name → ARN of its groups, which GAAD learns from its
 * own group list); a group's adds `GroupMembers` (the users GetGroup lists, whose GroupList GAAD derives
 * memberships from).
 */
export async function refreshIamEntity(
  composite: IamRefreshComposite,
  params: Item,
  call: IamCall,
): Promise<Item> {
  const gone = (err: unknown) => {
    if (awsErrorCode(err) === "NoSuchEntity" || awsErrorCode(err) === "NoSuchEntityException")
      throw new Gone();
    throw err;
  };
  const get = (op: IamRefreshCall, input: Item) => call(op, input).catch(gone);
  /** Every item of an IAM list (Marker/IsTruncated paging). */
  const all = async (op: IamRefreshCall, input: Item, member: string): Promise<Item[]> => {
    const items: Item[] = [];
    let marker: string | undefined;
    do {
      const out = await get(op, { ...input, MaxItems: 1000, ...(marker ? { Marker: marker } : {}) });
      const got = out[member];
      if (Array.isArray(got)) items.push(...(got as Item[]));
      marker = out.IsTruncated === true && typeof out.Marker === "string" ? out.Marker : undefined;
    } while (marker);
    return items;
  };
  /** An owner's inline policies, as GAAD's `*PolicyList` ({ PolicyName, PolicyDocument }). */
  const inline = async (kind: "Role" | "User" | "Group", input: Item): Promise<Item[]> => {
    const names = await all(`List${kind}Policies`, input, "PolicyNames");
    const out: Item[] = [];
    for (const n of names as unknown as string[]) {
      const p = await get(`Get${kind}Policy`, { ...input, PolicyName: n });
      out.push({ PolicyName: n, PolicyDocument: p.PolicyDocument });
    }
    return out;
  };

  try {
    switch (composite) {
      case "RefreshRole": {
        const input = { RoleName: name(params, "RoleName", composite) };
        const role = ((await get("GetRole", input)).Role ?? {}) as Item;
        const attached = await all("ListAttachedRolePolicies", input, "AttachedPolicies");
        const policies = await inline("Role", input);
        return {
          RoleDetailList: [
            { ...pick(role, ROLE_DETAIL), AttachedManagedPolicies: attached, RolePolicyList: policies },
          ],
        };
      }
      case "RefreshUser": {
        const input = { UserName: name(params, "UserName", composite) };
        const user = ((await get("GetUser", input)).User ?? {}) as Item;
        const groups = await all("ListGroupsForUser", input, "Groups");
        const attached = await all("ListAttachedUserPolicies", input, "AttachedPolicies");
        const policies = await inline("User", input);
        return {
          UserDetailList: [
            {
              ...pick(user, USER_DETAIL),
              GroupList: groups.map((g) => g.GroupName),
              AttachedManagedPolicies: attached,
              UserPolicyList: policies,
            },
          ],
          GroupArns: Object.fromEntries(groups.map((g) => [g.GroupName, g.Arn])),
        };
      }
      case "RefreshGroup": {
        const input = { GroupName: name(params, "GroupName", composite) };
        let group: Item = {};
        const members: Item[] = [];
        let marker: string | undefined;
        // GetGroup pages its members; the group itself is on every page.
        do {
          const out = await get("GetGroup", {
            ...input,
            MaxItems: 1000,
            ...(marker ? { Marker: marker } : {}),
          });
          group = (out.Group ?? {}) as Item;
          if (Array.isArray(out.Users))
            members.push(...(out.Users as Item[]).map((u) => pick(u, ["UserName", "Arn"])));
          marker = out.IsTruncated === true && typeof out.Marker === "string" ? out.Marker : undefined;
        } while (marker);
        const attached = await all("ListAttachedGroupPolicies", input, "AttachedPolicies");
        const policies = await inline("Group", input);
        return {
          GroupDetailList: [
            { ...pick(group, GROUP_DETAIL), AttachedManagedPolicies: attached, GroupPolicyList: policies },
          ],
          GroupMembers: members,
        };
      }
      case "RefreshPolicy": {
        const arn = name(params, "PolicyArn", composite);
        const policy = ((await get("GetPolicy", { PolicyArn: arn })).Policy ?? {}) as Item;
        const versionId = policy.DefaultVersionId;
        const version =
          typeof versionId === "string"
            ? ((await get("GetPolicyVersion", { PolicyArn: arn, VersionId: versionId }))
                .PolicyVersion as Item)
            : undefined;
        return {
          Policies: [
            {
              ...pick(policy, POLICY_DETAIL),
              PolicyVersionList: version ? [{ ...version, IsDefaultVersion: true }] : [],
            },
          ],
        };
      }
    }
  } catch (err) {
    if (err instanceof Gone) return { [GONE_LIST[composite]]: [], Gone: true };
    throw err;
  }
}

const GONE_LIST: Record<IamRefreshComposite, string> = {
  RefreshRole: "RoleDetailList",
  RefreshUser: "UserDetailList",
  RefreshGroup: "GroupDetailList",
  RefreshPolicy: "Policies",
};
