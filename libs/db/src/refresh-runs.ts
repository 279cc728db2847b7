import { sql, type Transaction } from "kysely";
import {
  RefreshIntent,
  canonicalJson,
  type PageRequest,
  type RunStatus,
  type Subjects,
} from "@grantline/contracts";
import { refreshRequests } from "@grantline/model";
import type { Db } from "./create-db.ts";
import type { Database } from "./database.ts";
import { completeRunIfDone } from "./complete-run.ts";
import { insertRun, lockSourceForRun } from "./runs.ts";

export interface PlanOptions {
  /** The source's `iam.onlyAttachedPolicies` (default true), for IAM refreshes. */
  iamOnlyAttachedPolicies?: boolean;
  /** The source's `iam.crossAccount`: an account refresh then starts or drops that account's IAM. */
  iamCrossAccount?: boolean;
}

export interface RefreshPlan {
  requests: PageRequest[];
  /** Intents the synced rows could not resolve (said once each, for the log). */
  unresolved: string[];
}

/**
 * The tasks of a refresh run: each intent's requests (libs/model `refreshRequests`) plus what only the synced rows
 * know, deduplicated by task id so an object named by several intents is read once:
 *
 * - `membership` (DeleteGroupMembership names only the membership): the group whose member grant carries that
 *   membership id → its `group-members`. An id no synced grant carries was created after the last read; the event
 *   that created it queued its group's members, so nothing is added (reported in `unresolved`).
 * - `permission-set-accounts`: also each pair the rows hold a live assignment for, so a pair no longer
 *   provisioned is listed (empty) and its scope sweep revokes what it held, as a full run's source sweep would.
 * - `iam-role`: also the roles whose trust grants name it (AWS rewrites a deleted role's ARN in other roles'
 *   trust policies without an event on them).
 *
 * A deleted user's or group's memberships and assignments need no read: the vanished object's `held-by` sweep
 * revokes them (libs/model identity-store.ts), with the events a full run would emit.
 */
export async function planRefresh(
  tx: Transaction<Database>,
  sourceId: string,
  runId: string,
  intents: readonly RefreshIntent[],
  opts: PlanOptions = {},
): Promise<RefreshPlan> {
  const unresolved: string[] = [];
  const all: RefreshIntent[] = [];
  const inactive = await inactiveAccounts(tx, sourceId);
  const iamRead = intents.some((i) => i.kind.startsWith("iam-")) ? await iamAccounts(tx, sourceId) : null;
  for (const intent of intents) {
    // A full run reads no IAM in a suspended, closing or closed account (and its IAM rows go); an IAM event
    // recorded there must not bring them back.
    if (intent.kind.startsWith("iam-") && "accountId" in intent && inactive.has(intent.accountId)) {
      unresolved.push(
        `${intent.kind} in account ${intent.accountId}: the account is not ACTIVE (or left), its IAM is not read`,
      );
      continue;
    }
    // Nor IAM the source does not sync (the management account's combined feed sees its IAM events either way).
    if (intent.kind.startsWith("iam-") && "accountId" in intent && !iamRead?.has(intent.accountId)) {
      unresolved.push(
        `${intent.kind} in account ${intent.accountId}: the source does not sync that account's IAM`,
      );
      continue;
    }
    all.push(intent);
    all.push(...(await dependents(tx, sourceId, intent, unresolved)));
  }
  // With cross-account IAM, an account's refresh reads all of its IAM when it is ACTIVE and drops it when it is
  // not: an IAM refresh beside it in the same run is redundant at best, and at worst — the account closed just
  // after the change, the fetcher's credentials for it still valid — writes rows back after the account's sweep.
  if (opts.iamCrossAccount) {
    const accounts = new Set(all.flatMap((i) => (i.kind === "account" ? [i.accountId] : [])));
    for (let k = all.length - 1; k >= 0; k--) {
      const i = all[k]!;
      if (i.kind.startsWith("iam-") && "accountId" in i && accounts.has(i.accountId)) all.splice(k, 1);
    }
  }
  const base = {
    runId,
    sourceId,
    iamOnlyAttachedPolicies: opts.iamOnlyAttachedPolicies,
    iamCrossAccount: opts.iamCrossAccount,
  };
  const byId = new Map<string, PageRequest>();
  for (const intent of all) {
    const iamArn = await syncedIamArn(tx, sourceId, intent);
    for (const r of refreshRequests(intent, { ...base, iamArn }))
      if (!byId.has(r.taskId)) byId.set(r.taskId, r);
  }
  return { requests: [...byId.values()], unresolved };
}

/** The source's accounts synced as suspended, closing or closed (`attrs.suspended`), or gone from the organization. */
async function inactiveAccounts(tx: Transaction<Database>, sourceId: string): Promise<Set<string>> {
  const rows = await tx
    .selectFrom("resources")
    .select("id")
    .where("source_id", "=", sourceId)
    .where("type", "=", "account")
    .where(sql<boolean>`(deleted_at IS NOT NULL OR attrs @> '{"suspended": true}')`)
    .execute();
  return new Set(rows.map((r) => r.id));
}

/** The accounts whose IAM the source syncs (its `iam_account` rows). */
async function iamAccounts(tx: Transaction<Database>, sourceId: string): Promise<Set<string>> {
  const rows = await tx
    .selectFrom("resources")
    .select("id")
    .where("source_id", "=", sourceId)
    .where("type", "=", "iam_account")
    .where("deleted_at", "is", null)
    .execute();
  return new Set(rows.map((r) => r.id));
}

/**
 * The synced ARN of an IAM intent's role, user or group (its path is not in the event): an entity that vanished
 * or moved is then swept by the ARN the rows hold.
 */
async function syncedIamArn(
  tx: Transaction<Database>,
  sourceId: string,
  intent: RefreshIntent,
): Promise<string | null> {
  const named =
    intent.kind === "iam-role"
      ? { type: "iam_role", name: intent.roleName, accountId: intent.accountId }
      : intent.kind === "iam-user" || intent.kind === "iam-user-keys"
        ? { type: "iam_user", name: intent.userName, accountId: intent.accountId }
        : intent.kind === "iam-group"
          ? { type: "iam_group", name: intent.groupName, accountId: intent.accountId }
          : null;
  if (named === null) return null;
  const row = await tx
    .selectFrom("resources")
    .select("id")
    .where("source_id", "=", sourceId)
    .where("type", "=", named.type)
    .where("name", "=", named.name)
    .where("id", "like", `arn:%:iam::${named.accountId}:%`)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
  return row?.id ?? null;
}

async function dependents(
  tx: Transaction<Database>,
  sourceId: string,
  intent: RefreshIntent,
  unresolved: string[],
): Promise<RefreshIntent[]> {
  switch (intent.kind) {
    case "membership": {
      const g = await sql<{ group_id: string }>`
        SELECT e.resource_id AS group_id
          FROM grants g JOIN entitlements e ON e.source_id = g.source_id AND e.id = g.entitlement_id
         WHERE g.source_id = ${sourceId} AND g.principal_type = 'sso_user'
           AND g.attrs ->> 'membershipId' = ${intent.membershipId} AND e.resource_type = 'sso_group'
         ORDER BY g.revoked_at IS NULL DESC LIMIT 1`.execute(tx);
      const groupId = g.rows[0]?.group_id;
      if (groupId === undefined) {
        unresolved.push(`membership ${intent.membershipId}: no synced group member carries it`);
        return [];
      }
      return [{ kind: "group-members", identityStoreId: intent.identityStoreId, groupId }];
    }
    case "permission-set-accounts": {
      const pairs = await sql<{ account_id: string }>`
        SELECT DISTINCT attrs ->> 'accountId' AS account_id FROM grants
         WHERE source_id = ${sourceId} AND revoked_at IS NULL AND principal_type IN ('sso_user', 'sso_group')
           AND attrs ->> 'permissionSetArn' = ${intent.permissionSetArn} AND NOT attrs ? 'derivedFrom'
           AND attrs ->> 'accountId' IS NOT NULL
         ORDER BY 1`.execute(tx);
      return pairs.rows.map((p) => ({
        kind: "assignments",
        instanceArn: intent.instanceArn,
        accountId: p.account_id,
        permissionSetArn: intent.permissionSetArn,
      }));
    }
    case "iam-role": {
      const trusting = await sql<{ account_id: string; role_name: string }>`
        SELECT DISTINCT t.attrs ->> 'accountId' AS account_id, t.name AS role_name
          FROM resources r
          JOIN grants g ON g.source_id = r.source_id AND g.principal_type = 'iam_role' AND g.principal_id = r.id
                       AND g.revoked_at IS NULL AND NOT g.attrs ? 'derivedFrom'
          JOIN entitlements e ON e.source_id = g.source_id AND e.id = g.entitlement_id AND e.resource_type = 'iam_role'
          JOIN resources t ON t.source_id = e.source_id AND t.type = 'iam_role' AND t.id = e.resource_id
         WHERE r.source_id = ${sourceId} AND r.type = 'iam_role' AND r.name = ${intent.roleName}
           AND r.attrs ->> 'accountId' = ${intent.accountId} AND t.id <> r.id
         ORDER BY 1, 2`.execute(tx);
      return trusting.rows.map((t) => ({ kind: "iam-role", accountId: t.account_id, roleName: t.role_name }));
    }
    case "account": {
      // Organizations attaches FullAWSAccess to a new account, and an account's state or move may change which
      // policies target it; targets are kept per policy, so each synced SCP/RCP's target list is re-read.
      const policies = await tx
        .selectFrom("resources")
        .select("id")
        .where("source_id", "=", sourceId)
        .where("type", "=", "org_policy")
        .where("deleted_at", "is", null)
        .orderBy("id")
        .execute();
      return policies.map((p) => ({ kind: "org-policy-targets", policyId: p.id }));
    }
    default:
      return [];
  }
}

export interface StartRefreshRunInput extends PlanOptions {
  sourceId: string;
  runId: string;
  subjects: Subjects;
  /** A full run's root tasks (libs/model `rootRequests`), started instead when a taken intent is `source`. */
  fullRunRoots: (runId: string) => PageRequest[] | Promise<PageRequest[]>;
}

export interface RefreshRunStart {
  /** The run started, or null: another full or refresh run is active, or nothing waits. */
  runId: string | null;
  kind: "refresh" | "full" | null;
  /** The active run that kept this one from starting. */
  activeRunId: string | null;
  /** Queue rows the run took. */
  taken: number;
  tasks: number;
  /** Set when the run finished as it started (every intent deduplicated away or resolved to nothing). */
  finished: RunStatus | null;
  unresolved: string[];
}

/**
 * Starts a refresh run for the source, in one transaction: under the source's lock (as `startRun`), nothing
 * starts while a full or refresh run is active; otherwise every waiting `refresh_queue` row is taken (SKIP LOCKED,
 * so a concurrent caller takes none of them twice), planned (`planRefresh`) and its tasks enqueued, the rows
 * marked with the run. A taken `source` intent makes it a full run instead. A run with no task completes at once.
 */
export async function startRefreshRun(db: Db, i: StartRefreshRunInput): Promise<RefreshRunStart> {
  return db.transaction().execute(async (tx) => {
    const idle: RefreshRunStart = {
      runId: null,
      kind: null,
      activeRunId: null,
      taken: 0,
      tasks: 0,
      finished: null,
      unresolved: [],
    };
    const active = await lockSourceForRun(tx, i.sourceId);
    if (active) return { ...idle, activeRunId: active };
    const rows = await tx
      .selectFrom("refresh_queue")
      .select(["id", "intent"])
      .where("source_id", "=", i.sourceId)
      .where("run_id", "is", null)
      .orderBy("id")
      .forUpdate()
      .skipLocked()
      .execute();
    if (rows.length === 0) return idle;
    const intents = rows.flatMap((r) => {
      const parsed = RefreshIntent.safeParse(r.intent);
      return parsed.success ? [parsed.data] : [];
    });
    const unreadable = rows.length - intents.length;
    const full = intents.some((x) => x.kind === "source");
    const plan = full
      ? { requests: await i.fullRunRoots(i.runId), unresolved: [] }
      : await planRefresh(tx, i.sourceId, i.runId, dedupeIntents(intents), i);
    await insertRun(tx, i.subjects, {
      sourceId: i.sourceId,
      runId: i.runId,
      roots: plan.requests,
      kind: full ? "full" : "refresh",
    });
    await tx
      .updateTable("refresh_queue")
      .set({ run_id: i.runId })
      .where(
        "id",
        "in",
        rows.map((r) => r.id),
      )
      .execute();
    const finished = plan.requests.length === 0 ? await completeRunIfDone(tx, i.subjects, i.runId) : null;
    return {
      runId: i.runId,
      kind: full ? "full" : "refresh",
      activeRunId: null,
      taken: rows.length,
      tasks: plan.requests.length,
      finished,
      unresolved: [
        ...plan.unresolved,
        ...(unreadable > 0 ? [`${unreadable} queued intent(s) unreadable, dropped`] : []),
      ],
    };
  });
}

function dedupeIntents(intents: RefreshIntent[]): RefreshIntent[] {
  return [...new Map(intents.map((x) => [canonicalJson(x), x])).values()];
}

/** Sources with refreshes waiting (not yet taken by a run), oldest first: the scheduler's refresh tick walks them. */
export async function sourcesWithWaitingRefreshes(db: Db): Promise<string[]> {
  const rows = await db
    .selectFrom("refresh_queue")
    .select("source_id")
    .where("run_id", "is", null)
    .groupBy("source_id")
    .orderBy(sql`min(id)`)
    .execute();
  return rows.map((r) => r.source_id);
}
