import type { RefreshIntent } from "@grantline/contracts";
import type { Db } from "./create-db.ts";

/** What `grantline refresh <type>:<id>` asks for: the intents to queue, or why there are none. */
export type RefreshTarget = { intents: RefreshIntent[] } | { error: string };

/** `arn:aws:iam::<account>:<kind>/<path/>name`: the account and the last path segment. */
function iamArn(arn: string, kind: string): { accountId: string; name: string } | null {
  const m = new RegExp(`^arn:aws[a-z-]*:iam::(\\d{12}):${kind}/(?:.*/)?([^/]+)$`).exec(arn);
  return m ? { accountId: m[1]!, name: m[2]! } : null;
}

/**
 * Resolves an operator's target (`<resourceType>:<id>`, grantline's names, as `grantline access` prints them) to
 * the refreshes that re-read it, from the synced rows where AWS needs more than the id (a user's identity store, a
 * permission set's instance). A user or group not synced yet is looked for in the source's only identity store;
 * anything else unknown is an error and nothing is queued.
 */
export async function resolveRefreshTarget(db: Db, sourceId: string, target: string): Promise<RefreshTarget> {
  const colon = target.indexOf(":");
  const type = target.slice(0, colon);
  const id = target.slice(colon + 1);
  const row = await db
    .selectFrom("resources")
    .select(["parent_id", "attrs"])
    .where("source_id", "=", sourceId)
    .where("type", "=", type)
    .where("id", "=", id)
    .executeTakeFirst();
  const unknown = { error: `no ${type} "${id}" in source ${sourceId} (run grantline sync first?)` };
  const store = async (): Promise<string | null> => {
    const s = row?.attrs.identityStoreId;
    if (typeof s === "string") return s;
    const instances = await db
      .selectFrom("resources")
      .select("attrs")
      .where("source_id", "=", sourceId)
      .where("type", "=", "sso_instance")
      .where("deleted_at", "is", null)
      .execute();
    const only = instances.length === 1 ? instances[0]?.attrs.identityStoreId : undefined;
    return typeof only === "string" ? only : null;
  };
  switch (type) {
    case "sso_user":
    case "sso_group": {
      const identityStoreId = await store();
      if (identityStoreId === null) return unknown;
      return type === "sso_user"
        ? { intents: [{ kind: "sso-user", identityStoreId, userId: id }] }
        : {
            intents: [
              { kind: "sso-group", identityStoreId, groupId: id },
              { kind: "group-members", identityStoreId, groupId: id },
            ],
          };
    }
    case "permission_set": {
      if (!row?.parent_id) return unknown;
      const s = { instanceArn: row.parent_id, permissionSetArn: id };
      return {
        intents: [
          { kind: "permission-set", ...s },
          { kind: "permission-set-accounts", ...s },
        ],
      };
    }
    case "account":
      return /^\d{12}$/.test(id) ? { intents: [{ kind: "account", accountId: id }] } : unknown;
    case "iam_account":
      return /^\d{12}$/.test(id) ? { intents: [{ kind: "iam-account", accountId: id }] } : unknown;
    case "root":
    case "organizational_unit":
    case "organization":
      return { intents: [{ kind: "organization-tree" }] };
    case "org_policy":
      return {
        intents: [
          { kind: "org-policy", policyId: id },
          { kind: "org-policy-targets", policyId: id },
        ],
      };
    case "iam_role": {
      const a = iamArn(id, "role");
      return a ? { intents: [{ kind: "iam-role", accountId: a.accountId, roleName: a.name }] } : unknown;
    }
    case "iam_user": {
      const a = iamArn(id, "user");
      if (!a) return unknown;
      const u = { accountId: a.accountId, userName: a.name };
      return {
        intents: [
          { kind: "iam-user", ...u },
          { kind: "iam-user-keys", ...u },
        ],
      };
    }
    case "iam_group": {
      const a = iamArn(id, "group");
      return a ? { intents: [{ kind: "iam-group", accountId: a.accountId, groupName: a.name }] } : unknown;
    }
    case "iam_policy": {
      const a = iamArn(id, "policy");
      return a ? { intents: [{ kind: "iam-policy", accountId: a.accountId, policyArn: id }] } : unknown;
    }
    default:
      return {
        error: `cannot refresh a ${type}: refresh one of sso_user, sso_group, permission_set, account, organizational_unit, org_policy, iam_account, iam_role, iam_user, iam_group, iam_policy`,
      };
  }
}
