import type {
  ProvisioningCall,
  ProvisioningRefusal,
  ProvisioningTarget,
  ResourceType,
} from "@grantline/contracts";
import {
  accountPermissionSetEntitlementId,
  grantId,
  groupMemberEntitlementId,
  iamGroupMemberEntitlementId,
} from "@grantline/model";
import type { Db } from "../create-db.ts";
import { liveGrant } from "./provisioning-records.ts";

/** A target resolved against the synced rows: the grant it is about and the AWS change that makes it. */
export interface ResolvedTarget {
  /** The target with every name replaced by its id (what is stored and compared). */
  target: ProvisioningTarget;
  /** `grants.id` of the access. */
  grantId: string;
  change: ProvisioningCall["change"];
  /** The target in words, for replies and audit. */
  describe: string;
}

export interface Refusal {
  refusal: ProvisioningRefusal;
  error: string;
}

interface Row {
  type: string;
  id: string;
  name: string;
  parent_id: string | null;
  attrs: Record<string, unknown>;
}

/** One live resource of `types` by id, or by name when no id matches; a refusal when none or several. */
async function one(
  db: Db,
  sourceId: string,
  types: ResourceType[],
  idOrName: string,
  what: string,
  missing: ProvisioningRefusal,
): Promise<Row | Refusal> {
  const rows = await db
    .selectFrom("resources")
    .select(["type", "id", "name", "parent_id", "attrs"])
    .where("source_id", "=", sourceId)
    .where("type", "in", types)
    .where("deleted_at", "is", null)
    .where((eb) => eb.or([eb("id", "=", idOrName), eb("name", "=", idOrName)]))
    .orderBy("type")
    .orderBy("id")
    .limit(6)
    .execute();
  const byId = rows.filter((r) => r.id === idOrName);
  const found = byId.length > 0 ? byId : rows;
  if (found.length === 0)
    return { refusal: missing, error: `no ${what} "${idOrName}" in source ${sourceId} (synced data)` };
  if (found.length > 1)
    return {
      refusal: "ambiguous-name",
      error: `"${idOrName}" names ${found.length} ${what}s: ${found.map((r) => `${r.type} ${r.id}`).join(", ")}; give the id`,
    };
  return found[0]!;
}

const isRefusal = (x: Row | Refusal): x is Refusal => "refusal" in x;
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const label = (r: Row) => (r.name === r.id ? `${r.type} ${r.id}` : `${r.name} (${r.type} ${r.id})`);

/** `arn:aws:iam::<account>:…`'s account. */
const iamAccount = (arn: string): string | null => /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(arn)?.[1] ?? null;

/**
 * Validates a request's target against the synced data in Postgres, before anything reaches AWS: the principal,
 * permission set, group and account exist; for an assignment the account is ACTIVE (`checkAccount`: a revoke may
 * still clean up a suspended account) and the principal is in the permission set's instance's identity store.
 */
export async function resolveTarget(
  db: Db,
  sourceId: string,
  t: ProvisioningTarget,
  o: { checkAccount: boolean },
): Promise<ResolvedTarget | Refusal> {
  switch (t.kind) {
    case "account-assignment": {
      const account = await one(db, sourceId, ["account"], t.account, "account", "unknown-account");
      if (isRefusal(account)) return account;
      const state = str(account.attrs.state) ?? str(account.attrs.status);
      if (o.checkAccount && state !== null && state !== "ACTIVE")
        return {
          refusal: "account-not-active",
          error: `account ${label(account)} is ${state}: access cannot be granted on an account that is not ACTIVE`,
        };
      const ps = await one(
        db,
        sourceId,
        ["permission_set"],
        t.permissionSet,
        "permission set",
        "unknown-permission-set",
      );
      if (isRefusal(ps)) return ps;
      const principal = await one(
        db,
        sourceId,
        ["sso_user", "sso_group"],
        t.principal,
        "Identity Center user or group",
        "unknown-principal",
      );
      if (isRefusal(principal)) return principal;
      const instanceArn = ps.parent_id;
      const instance = instanceArn
        ? await db
            .selectFrom("resources")
            .select("attrs")
            .where("source_id", "=", sourceId)
            .where("type", "=", "sso_instance")
            .where("id", "=", instanceArn)
            .where("deleted_at", "is", null)
            .executeTakeFirst()
        : undefined;
      const store = str(instance?.attrs.identityStoreId);
      if (instanceArn === null || store === null || store !== str(principal.attrs.identityStoreId))
        return {
          refusal: "permission-set-not-in-instance",
          error: `permission set ${label(ps)} is not in the Identity Center instance of ${label(principal)} (identity store ${str(principal.attrs.identityStoreId) ?? "unknown"})`,
        };
      const principalType = principal.type as "sso_user" | "sso_group";
      return {
        target: { kind: t.kind, principal: principal.id, permissionSet: ps.id, account: account.id },
        grantId: grantId(accountPermissionSetEntitlementId(account.id, ps.id), principalType, principal.id),
        change: {
          kind: t.kind,
          instanceArn,
          accountId: account.id,
          permissionSetArn: ps.id,
          principalType: principalType === "sso_user" ? "USER" : "GROUP",
          principalId: principal.id,
        },
        describe: `permission set ${label(ps)} for ${label(principal)} on account ${label(account)}`,
      };
    }
    case "group-membership": {
      const user = await one(db, sourceId, ["sso_user"], t.user, "Identity Center user", "unknown-principal");
      if (isRefusal(user)) return user;
      const group = await one(db, sourceId, ["sso_group"], t.group, "Identity Center group", "unknown-group");
      if (isRefusal(group)) return group;
      const store = str(group.attrs.identityStoreId);
      if (store === null || store !== str(user.attrs.identityStoreId))
        return {
          refusal: "principal-mismatch",
          error: `${label(user)} and ${label(group)} are not in the same identity store`,
        };
      const id = grantId(groupMemberEntitlementId(group.id), "sso_user", user.id);
      const synced = await liveGrant(db, sourceId, id);
      return {
        target: { kind: t.kind, user: user.id, group: group.id },
        grantId: id,
        change: {
          kind: t.kind,
          identityStoreId: store,
          groupId: group.id,
          userId: user.id,
          membershipId: str(synced?.attrs.membershipId),
        },
        describe: `membership of ${label(user)} in ${label(group)}`,
      };
    }
    case "iam-group-membership": {
      const user = await one(db, sourceId, ["iam_user"], t.user, "IAM user", "unknown-principal");
      if (isRefusal(user)) return user;
      const group = await one(db, sourceId, ["iam_group"], t.group, "IAM group", "unknown-group");
      if (isRefusal(group)) return group;
      const accountId = iamAccount(group.id);
      if (accountId === null || accountId !== iamAccount(user.id))
        return {
          refusal: "principal-mismatch",
          error: `${label(user)} and ${label(group)} are not in the same account`,
        };
      return {
        target: { kind: t.kind, user: user.id, group: group.id },
        grantId: grantId(iamGroupMemberEntitlementId(group.id), "iam_user", user.id),
        change: { kind: t.kind, accountId, groupName: group.name, userName: user.name },
        describe: `membership of ${label(user)} in ${label(group)}`,
      };
    }
  }
}
