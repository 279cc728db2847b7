import { randomUUID } from "node:crypto";
import { createSubjects, GrantRequest, RevokeRequest, type ProvisioningTarget } from "@grantline/contracts";
import type { Db } from "../create-db.ts";
import { requestGrant, requestRevoke } from "./request-provisioning.ts";

/** Ids of the synced organization `seedSyncedAccess` writes. */
export const SEED = {
  instance: "arn:aws:sso:::instance/ssoins-1",
  store: "d-1",
  ps: "arn:aws:sso:::permissionSet/ssoins-1/ps-ro",
  otherPs: "arn:aws:sso:::permissionSet/ssoins-2/ps-x",
  account: "111111111111",
  suspended: "222222222222",
  user: "u-ann",
  user2: "u-bob",
  group: "g-ops",
  iamUser: "arn:aws:iam::111111111111:user/carol",
  iamGroup: "arn:aws:iam::111111111111:group/admins",
  /** Already assigned in AWS (permission set ReadOnly for bob on the account), not by grantline. */
  standingGrant: "111111111111|arn:aws:sso:::permissionSet/ssoins-1/ps-ro:sso_user:u-bob",
} as const;

/**
 * Synced rows as a full run leaves them: one Identity Center instance with a permission set, users and a group,
 * an ACTIVE and a SUSPENDED account, an IAM user and group, and one standing assignment.
 */
export async function seedSyncedAccess(db: Db, sourceId: string): Promise<void> {
  const run = randomUUID();
  const row = (
    type: string,
    id: string,
    name: string,
    attrs: Record<string, unknown>,
    parentId: string | null = null,
  ) => ({
    source_id: sourceId,
    type,
    id,
    parent_type: parentId === null ? null : "sso_instance",
    parent_id: parentId,
    name,
    attrs: JSON.stringify(attrs),
    scope: null,
    first_seen_run: run,
    last_seen_run: run,
  });
  await db
    .insertInto("resources")
    .values([
      row("sso_instance", SEED.instance, "main", { identityStoreId: SEED.store }),
      row("sso_instance", "arn:aws:sso:::instance/ssoins-2", "other", { identityStoreId: "d-2" }),
      row("permission_set", SEED.ps, "ReadOnly", {}, SEED.instance),
      row("permission_set", SEED.otherPs, "Other", {}, "arn:aws:sso:::instance/ssoins-2"),
      row("account", SEED.account, "prod", { state: "ACTIVE", status: "ACTIVE", suspended: false }),
      row("account", SEED.suspended, "old", { state: "SUSPENDED", status: "SUSPENDED", suspended: true }),
      row("sso_user", SEED.user, "ann@example.com", { identityStoreId: SEED.store }),
      row("sso_user", SEED.user2, "bob@example.com", { identityStoreId: SEED.store }),
      row("sso_user", "u-dup-1", "dup", { identityStoreId: SEED.store }),
      row("sso_group", "u-dup-2", "dup", { identityStoreId: SEED.store }),
      row("sso_group", SEED.group, "Ops", { identityStoreId: SEED.store }),
      row("iam_user", SEED.iamUser, "carol", {}),
      row("iam_group", SEED.iamGroup, "admins", {}),
    ])
    .execute();
  await db
    .insertInto("grants")
    .values(assignmentGrant(sourceId, SEED.standingGrant, SEED.user2, run))
    .execute();
}

/** A synced grant of the seeded permission set on the seeded account to `principalId`, stamped by `run`. */
function assignmentGrant(sourceId: string, id: string, principalId: string, run: string) {
  return {
    source_id: sourceId,
    id,
    entitlement_id: `${SEED.account}|${SEED.ps}`,
    principal_type: "sso_user",
    principal_id: principalId,
    expandable: false,
    attrs: JSON.stringify({}),
    scope: null,
    first_seen_run: run,
    last_seen_run: run,
  };
}

export const subjects = createSubjects("t");
export const T0 = new Date("2026-12-01T10:00:00.000Z");
export const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

/** Request helpers over a test database `t` (read `t.db` inside a test). */
export function provisioningHelpers(t: { readonly db: Db }) {
  return {
    /** A fresh source with the seeded synced rows: tests do not see each other's requests. */
    async source(): Promise<string> {
      const id = `s${randomUUID().slice(0, 8)}`;
      await seedSyncedAccess(t.db, id);
      return id;
    },
    assignment: (principal: string, o: Partial<ProvisioningTarget> = {}): ProvisioningTarget =>
      ({
        kind: "account-assignment",
        principal,
        permissionSet: "ReadOnly",
        account: SEED.account,
        ...o,
      }) as ProvisioningTarget,
    grant: (sourceId: string, body: Record<string, unknown>, now = T0, requester = "operator") =>
      requestGrant(t.db, subjects, { sourceId, request: GrantRequest.parse(body), requester, now }),
    revoke: (sourceId: string, body: Record<string, unknown>, now = T0) =>
      requestRevoke(t.db, subjects, {
        sourceId,
        request: RevokeRequest.parse(body),
        requester: "operator",
        now,
      }),
    async auditOf(id: string) {
      return t.db
        .selectFrom("provisioning_audit")
        .select(["action", "outcome", "requester", "reason", "state"])
        .where("request_id", "=", id)
        .orderBy("id")
        .execute();
    },
    async events(
      sourceId: string,
    ): Promise<Array<{ type: string; id: string; requestId: string; state: string }>> {
      const rows = await t.db
        .selectFrom("outbox")
        .select("payload")
        .where("subject", "like", `t.events.${sourceId}.provisioning.%`)
        .orderBy("created_at")
        .execute();
      return rows.map((r) => {
        const e = JSON.parse(r.payload) as {
          type: string;
          id: string;
          data: { requestId: string; state: string };
        };
        return { type: e.type, id: e.id, requestId: e.data.requestId, state: e.data.state };
      });
    },
  };
}

/** What the writer's re-read leaves in the synced rows after AWS changed: the grant live or revoked. */
export async function syncGrant(db: Db, sourceId: string, grantId: string, live: boolean): Promise<void> {
  const run = randomUUID();
  const revokedAt = live ? null : new Date();
  await db
    .insertInto("grants")
    .values({ ...assignmentGrant(sourceId, grantId, SEED.user, run), revoked_at: revokedAt })
    .onConflict((oc) => oc.columns(["source_id", "id"]).doUpdateSet({ revoked_at: revokedAt }))
    .execute();
}
