// SCPs/RCPs and customer-managed IAM policies through the mappers and the writer's transaction (no NATS, no AWS):
// AWS-shaped pages in, rows and events out, across runs, in an order where a policy's details commit after its
// list page closed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSubjects, pageRequest, type PageRequest, type PageResult } from "@grantline/contracts";
import { applyBatch, createDb, migrateToLatest, outboxMessages, startRun, type Db } from "@grantline/db";
import { mapPage } from "@grantline/model";
import { createTestDatabase, testInfra, uniqueName, type TestDatabase } from "@grantline/testing";

const subjects = createSubjects("t");
let tdb: TestDatabase;
let db: Db;

beforeAll(async () => {
  tdb = await createTestDatabase(testInfra().databaseUrl);
  db = createDb({ url: tdb.url });
  const { error } = await migrateToLatest(db);
  if (error) throw new Error(String(error));
});
afterAll(async () => {
  await db.destroy();
  await tdb.drop();
});

const ROOT = "r-examplerootid111";
const OU = "ou-examplerootid111-exampleouid111";
const ACCT = "333333333333";
const policy = (Id: string, Name: string, AwsManaged = false) => ({
  Id,
  Name,
  AwsManaged,
  Type: "SERVICE_CONTROL_POLICY",
  Arn: `arn:aws:organizations::111111111111:policy/o-exampleorgid/service_control_policy/${Id}`,
  Description: `${Name} policy`,
});
const target = (TargetId: string, Type: string) => ({
  TargetId,
  Type,
  Name: TargetId,
  Arn: `arn:${TargetId}`,
});
const TYPES: Record<string, string> = { "r-": "ROOT", ou: "ORGANIZATIONAL_UNIT" };

type Answers = (r: PageRequest) => Pick<PageResult, "page" | "skipped">;

/** The Organizations answers of one run: which policies exist and where each is attached (null: denied). */
function organizations(attached: Record<string, string[]> | null): Answers {
  return (r) => {
    const denied = { page: {}, skipped: "AccessDenied" };
    switch (r.operation) {
      case "ListRoots":
        return {
          page: {
            Roots: [
              {
                Id: ROOT,
                Name: "Root",
                PolicyTypes: [{ Type: "SERVICE_CONTROL_POLICY", Status: "ENABLED" }],
              },
            ],
          },
          skipped: null,
        };
      case "ListOrganizationalUnitsForParent":
        return { page: { OrganizationalUnits: [] }, skipped: null };
      case "ListPolicies":
        if (!attached) return denied;
        return {
          page: {
            Policies: Object.keys(attached).map((id) => policy(id, id.slice(2), id === "p-FullAWSAccess")),
          },
          skipped: null,
        };
      case "DescribePolicy": {
        const id = String(r.params.PolicyId);
        return {
          page: { Policy: { PolicySummary: policy(id, id.slice(2)), Content: '{"Version":"2012-10-17"}' } },
          skipped: null,
        };
      }
      case "ListTargetsForPolicy": {
        const ids = attached?.[String(r.params.PolicyId)] ?? [];
        return {
          page: { Targets: ids.map((t) => target(t, TYPES[t.slice(0, 2)] ?? "ACCOUNT")) },
          skipped: null,
        };
      }
      default:
        throw new Error(`unexpected ${r.operation}`);
    }
  };
}

/**
 * One full run from ListRoots: every task mapped and applied, the ListPolicies pages first and each policy's
 * DescribePolicy last, so the list's scope closing can never sweep a policy whose details are still to come.
 * Returns the run's change events as `<type> <grant or resource id>`.
 */
async function run(
  source: string,
  answer: Answers,
  root: Pick<PageRequest, "service" | "operation" | "params" | "accountId" | "scope"> = {
    service: "organizations",
    operation: "ListRoots",
    params: {},
    accountId: null,
    scope: null,
  },
): Promise<string[]> {
  const runId = crypto.randomUUID();
  const first = pageRequest({ ...root, runId, sourceId: source, pageToken: null, pageIndex: 0 });
  await startRun(db, { sourceId: source, runId, roots: [first], subjects });
  const queue: PageRequest[] = [first];
  const order = (r: PageRequest) => (r.operation === "DescribePolicy" ? 1 : 0);
  while (queue.length) {
    queue.sort((a, b) => order(a) - order(b));
    const r = queue.shift()!;
    const got = answer(r);
    const batch = mapPage({
      v: 1,
      request: r,
      page: got.page,
      fetchedAt: "2026-01-01T00:00:00.000Z",
      warnings: [],
      skipped: got.skipped ?? null,
      stats: { awsCalls: 1, throttled: 0 },
    });
    await applyBatch(db, subjects, batch);
    queue.push(...batch.children);
  }
  const status = await db
    .selectFrom("runs")
    .select("status")
    .where("id", "=", runId)
    .executeTakeFirstOrThrow();
  expect(status.status).toBe("succeeded");
  const rows = await outboxMessages(db, `t.events.${source}.`);
  await db.deleteFrom("outbox").where("subject", "like", `t.events.${source}.%`).execute();
  return rows
    .map((o) => ({ type: o.subject.replace(`t.events.${source}.`, ""), data: JSON.parse(o.payload).data }))
    .filter((e) => e.type.startsWith("grant.") || e.type.startsWith("resource."))
    .map((e) =>
      e.type.startsWith("grant.")
        ? `${e.type} ${e.data.grantId}`
        : `${e.type} ${e.data.resourceType}/${e.data.resourceId}`,
    )
    .sort();
}

describe("SCPs and RCPs across runs (mappers + writer)", () => {
  it("detaching a policy from one target emits exactly one grant.revoked; a denied ListPolicies keeps everything", async () => {
    const src = uniqueName("scp").replace(/[^a-z0-9_-]/g, "_");
    const first = await run(src, organizations({ "p-FullAWSAccess": [ROOT], "p-denyleave": [OU, ACCT] }));
    expect(first.filter((e) => e.startsWith("grant."))).toEqual(
      [
        `grant.created org_policy:p-FullAWSAccess:attached:root:${ROOT}`,
        `grant.created org_policy:p-denyleave:attached:account:${ACCT}`,
        `grant.created org_policy:p-denyleave:attached:organizational_unit:${OU}`,
      ].sort(),
    );
    expect(first).toContain("resource.created org_policy/p-denyleave");

    const detached = await run(src, organizations({ "p-FullAWSAccess": [ROOT], "p-denyleave": [OU] }));
    expect(detached).toEqual([`grant.revoked org_policy:p-denyleave:attached:account:${ACCT}`]);

    // Not the management account any more: nothing can be read, so nothing is revoked or deleted.
    expect(await run(src, organizations(null))).toEqual([]);

    // A policy deleted: its last target revoked, the policy itself deleted by the run's sweep.
    const deleted = await run(src, organizations({ "p-FullAWSAccess": [ROOT] }));
    expect(deleted).toEqual(
      [
        `grant.revoked org_policy:p-denyleave:attached:organizational_unit:${OU}`,
        "resource.deleted org_policy/p-denyleave",
      ].sort(),
    );
  });
});

describe("customer-managed IAM policies across runs (mappers + writer)", () => {
  const policyArn = `arn:aws:iam::${ACCT}:policy/teams/deploy`;
  const userArn = `arn:aws:iam::${ACCT}:user/ana`;
  /** One account's GAAD: user ana, and the customer-managed policy attached to her or not. */
  const iam =
    (attached: boolean): Answers =>
    (r) => {
      if (r.operation === "ListAccessKeys") return { page: { AccessKeyMetadata: [] }, skipped: null };
      if (r.operation !== "GetAccountAuthorizationDetails") throw new Error(`unexpected ${r.operation}`);
      return {
        page: {
          UserDetailList: [
            {
              UserName: "ana",
              UserId: "AIDAEXAMPLEANA",
              Arn: userArn,
              Path: "/",
              AttachedManagedPolicies: attached ? [{ PolicyName: "deploy", PolicyArn: policyArn }] : [],
            },
          ],
          Policies: [
            {
              PolicyName: "deploy",
              PolicyId: "ANPAEXAMPLEDEPLOY",
              Arn: policyArn,
              Path: "/teams/",
              DefaultVersionId: "v1",
              AttachmentCount: attached ? 1 : 0,
              PolicyVersionList: [
                { VersionId: "v1", IsDefaultVersion: true, Document: '{"Version":"2012-10-17"}' },
              ],
            },
          ],
          IsTruncated: false,
        },
        skipped: null,
      };
    };
  const gaad = {
    service: "iam" as const,
    operation: "GetAccountAuthorizationDetails",
    params: { Filter: ["User", "LocalManagedPolicy"], onlyAttachedPolicies: true },
    accountId: ACCT,
    scope: `iam:${ACCT}`,
  };

  it("detaching the last attachment revokes the grant and deletes nothing", async () => {
    const src = uniqueName("cmp").replace(/[^a-z0-9_-]/g, "_");
    expect(await run(src, iam(true), gaad)).toEqual(
      [
        `grant.created iam_policy:${policyArn}:attached:iam_user:${userArn}`,
        `resource.created iam_policy/${policyArn}`,
        `resource.created iam_user/${userArn}`,
      ].sort(),
    );
    expect(await run(src, iam(false), gaad)).toEqual([
      `grant.revoked iam_policy:${policyArn}:attached:iam_user:${userArn}`,
    ]);
  });
});
