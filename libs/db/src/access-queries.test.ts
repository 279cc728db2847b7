import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createSubjects,
  pageRequest,
  type PrincipalType,
  type ResourceType,
  type ResultBatch,
} from "@grantline/contracts";
import { accessOfPrincipal, accessToAccount, applyBatch, startRun, type Db } from "./index.ts";
import { openMigratedTestDb } from "./migrated-test-db.fixture.ts";

const subjects = createSubjects("t");
const ACCOUNT = "111111111111";
const OTHER = "222222222222";
const PS = "arn:aws:sso:::permissionSet/ssoins-1/ps-admin";
let close: () => Promise<void>;
let db: Db;

/** One synced run: group g (alice and bob) holds Admin on ACCOUNT; carol holds it directly; bob also on OTHER. */
beforeAll(async () => {
  ({ db, close } = await openMigratedTestDb({ poolSize: 2 }));
  const runId = randomUUID();
  const root = pageRequest({
    runId,
    sourceId: "acme",
    service: "diag",
    operation: "Pages",
    params: {},
    pageToken: null,
    accountId: null,
    scope: null,
    pageIndex: 0,
  });
  await startRun(db, { sourceId: "acme", runId, roots: [root], subjects });
  const resource = (type: ResourceType, id: string, name: string) => ({
    type,
    id,
    parentType: null,
    parentId: null,
    name,
    attrs: {},
  });
  const onAccount = (account: string) => ({
    id: `${account}|${PS}`,
    resourceType: "account" as const,
    resourceId: account,
    slug: `permission-set:${PS}` as const,
    name: "Admin access",
    attrs: {},
  });
  const grant = (
    entitlementId: string,
    principalType: PrincipalType,
    principalId: string,
    expandable = false,
  ) => ({
    id: `${entitlementId}|${principalType}:${principalId}`,
    entitlementId,
    principalType,
    principalId,
    expandable,
    attrs: {},
  });
  const batch: ResultBatch = {
    v: 1,
    taskId: root.taskId,
    runId,
    sourceId: "acme",
    scope: null,
    resources: [
      resource("account", ACCOUNT, "prod"),
      resource("account", OTHER, "dev"),
      resource("sso_group", "g", "Admins"),
      resource("sso_user", "alice", "Alice"),
      resource("sso_user", "bob", "Bob"),
      resource("sso_user", "carol", "Carol"),
    ],
    entitlements: [
      onAccount(ACCOUNT),
      onAccount(OTHER),
      {
        id: "sso_group:g:member",
        resourceType: "sso_group",
        resourceId: "g",
        slug: "member",
        name: "Admins member",
        attrs: {},
      },
    ],
    grants: [
      grant("sso_group:g:member", "sso_user", "alice"),
      grant("sso_group:g:member", "sso_user", "bob"),
      grant(`${ACCOUNT}|${PS}`, "sso_group", "g", true),
      grant(`${ACCOUNT}|${PS}`, "sso_user", "carol"),
      grant(`${OTHER}|${PS}`, "sso_user", "bob"),
    ],
    children: [],
    scopeComplete: false,
    keepScopes: [],
    stats: { awsCalls: 1, throttled: 0 },
    warnings: [],
  };
  expect((await applyBatch(db, subjects, batch)).runFinished).toBe("succeeded");
});
afterAll(async () => {
  await close();
});

describe("access queries", () => {
  it("accessToAccount: every principal that reaches the account, directly or through its group, with names", async () => {
    const ent = `${ACCOUNT}|${PS}`;
    expect(await accessToAccount(db, ACCOUNT)).toEqual([
      {
        principal_type: "sso_group",
        principal_id: "g",
        entitlement_id: ent,
        via_type: null,
        via_id: null,
        principal_name: "Admins",
      },
      {
        principal_type: "sso_user",
        principal_id: "alice",
        entitlement_id: ent,
        via_type: "sso_group",
        via_id: "g",
        principal_name: "Alice",
      },
      {
        principal_type: "sso_user",
        principal_id: "bob",
        entitlement_id: ent,
        via_type: "sso_group",
        via_id: "g",
        principal_name: "Bob",
      },
      {
        principal_type: "sso_user",
        principal_id: "carol",
        entitlement_id: ent,
        via_type: null,
        via_id: null,
        principal_name: "Carol",
      },
    ]);
    // Column order is what `grantline access who` prints.
    expect(Object.keys((await accessToAccount(db, ACCOUNT))[0] ?? {})).toEqual([
      "principal_type",
      "principal_id",
      "entitlement_id",
      "via_type",
      "via_id",
      "principal_name",
    ]);
    expect(await accessToAccount(db, "333333333333")).toEqual([]);
  });

  it("accessOfPrincipal: what a user reaches, through a group and directly", async () => {
    expect(await accessOfPrincipal(db, "bob")).toEqual([
      {
        resource_type: "account",
        resource_id: ACCOUNT,
        slug: `permission-set:${PS}`,
        via_type: "sso_group",
        via_id: "g",
      },
      {
        resource_type: "account",
        resource_id: OTHER,
        slug: `permission-set:${PS}`,
        via_type: null,
        via_id: null,
      },
      { resource_type: "sso_group", resource_id: "g", slug: "member", via_type: null, via_id: null },
    ]);
    expect(await accessOfPrincipal(db, "nobody")).toEqual([]);
  });
});
