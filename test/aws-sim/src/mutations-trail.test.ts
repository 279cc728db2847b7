import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TrailEvent } from "./cloud-trail-log.ts";
import type { SimMutations } from "./mutations.ts";
import { startAwsSim } from "./sim.ts";
import type { AwsSim } from "./sim.ts";
import { getShape, loadModel, operationShape } from "./smithy/smithy-model.ts";
import type { ModelName, SmithyModel } from "./smithy/smithy-model.ts";

let sim: AwsSim;
const IC_REGION = "eu-central-1";
beforeAll(async () => {
  sim = await startAwsSim({ preset: "tiny", seed: 1, identityCenterRegion: IC_REGION });
});
afterAll(async () => {
  await sim.close();
});

/** Events recorded (in any account) since the last call. */
let lastSeq = 0;
function newEvents(): TrailEvent[] {
  const accounts = new Set([...sim.exportOrg().accounts.map((a) => a.id), ...seenAccounts]);
  const evs = [...accounts].flatMap((a) => sim.trail(a)).filter((e) => e.seq > lastSeq);
  lastSeq = Math.max(lastSeq, ...evs.map((e) => e.seq));
  return evs.sort((a, b) => a.seq - b.seq);
}
const seenAccounts = new Set<string>();
const accountOf = (e: TrailEvent): string => e.record["recipientAccountId"] as string;

type Step = {
  [K in keyof SimMutations]: [K, () => Parameters<SimMutations[K]>[0], string, string];
}[keyof SimMutations];
const TRAILS_OF: Record<string, ModelName> = {
  "iam.amazonaws.com": "iam-2010-05-08",
  "organizations.amazonaws.com": "organizations-2016-11-28",
  "sso.amazonaws.com": "sso-admin-2020-07-20",
  "identitystore.amazonaws.com": "identitystore-2020-06-15",
};

/** Every key of CloudTrail's requestParameters is the API's member name in camelCase, at every depth. */
function checkMembers(model: SmithyModel, shapeId: string, v: unknown, path: string): string[] {
  const shape = getShape(model, shapeId);
  if (Array.isArray(v))
    return shape.member
      ? v.flatMap((x, i) => checkMembers(model, shape.member!.target, x, `${path}[${i}]`))
      : [];
  if (typeof v !== "object" || v === null || !shape.members) return [];
  const members = shape.members;
  return Object.entries(v).flatMap(([k, x]) => {
    const m = Object.keys(members).find((n) => n === k.charAt(0).toUpperCase() + k.slice(1));
    return m ? checkMembers(model, members[m]!.target, x, `${path}.${k}`) : [`${path}.${k}`];
  });
}

describe("every admin mutation appends the event AWS would, in the right account and Region", () => {
  it("all mutation kinds", () => {
    const mg = sim.managementAccountId;
    const org = sim.exportOrg();
    const ic = org.identityCenter!;
    const member = org.accounts.find((a) => a.id !== mg)!.id;
    const ps0 = ic.permissionSets[0]!.arn;
    const ou = org.organizationalUnits[0]!.id;
    const ids: Record<string, string> = {};
    const doc = JSON.stringify({ Version: "2012-10-17", Statement: [] });
    const managed = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    const membership = () => ({ groupId: ids["group"]!, userId: ids["user"]! });
    const assignment = () => ({
      accountId: member,
      permissionSetArn: ps0,
      principalType: "USER" as const,
      principalId: ids["user"]!,
    });
    const roleAttachment = () => ({
      accountId: member,
      principalType: "role" as const,
      principalName: "t-role",
      policyArn: managed,
    });
    const steps: Step[] = [
      [
        "createIdentityStoreUser",
        () => ({ userName: "t.user", displayName: "T User", givenName: "T", familyName: "User" }),
        "identitystore",
        "CreateUser",
      ],
      ["disableIdentityStoreUser", () => ({ userId: ids["user"]! }), "identitystore", "UpdateUser"],
      ["enableIdentityStoreUser", () => ({ userId: ids["user"]! }), "identitystore", "UpdateUser"],
      ["createIdentityStoreGroup", () => ({ displayName: "T Group" }), "identitystore", "CreateGroup"],
      ["addGroupMembership", membership, "identitystore", "CreateGroupMembership"],
      ["removeGroupMembership", membership, "identitystore", "DeleteGroupMembership"],
      ["createPermissionSet", () => ({ name: "TSet" }), "sso", "CreatePermissionSet"],
      [
        "provisionPermissionSet",
        () => ({ permissionSetArn: ids["ps"]!, accountId: member }),
        "sso",
        "ProvisionPermissionSet",
      ],
      [
        "putPermissionSetBoundary",
        () => ({ permissionSetArn: ids["ps"]!, boundary: { managedPolicyArn: managed } }),
        "sso",
        "PutPermissionsBoundaryToPermissionSet",
      ],
      [
        "deletePermissionSetBoundary",
        () => ({ permissionSetArn: ids["ps"]! }),
        "sso",
        "DeletePermissionsBoundaryFromPermissionSet",
      ],
      ["createAccountAssignment", assignment, "sso", "CreateAccountAssignment"],
      ["deleteAccountAssignment", assignment, "sso", "DeleteAccountAssignment"],
      ["deletePermissionSet", () => ({ permissionSetArn: ids["ps"]! }), "sso", "DeletePermissionSet"],
      ["deleteIdentityStoreGroup", () => ({ groupId: ids["group"]! }), "identitystore", "DeleteGroup"],
      ["deleteIdentityStoreUser", () => ({ userId: ids["user"]! }), "identitystore", "DeleteUser"],
      [
        "createAccount",
        () => ({ name: "T Acct", email: "t@example.com", parentId: ou }),
        "organizations",
        "CreateAccount",
      ],
      [
        "setAccountStatus",
        () => ({ accountId: ids["account"]!, status: "SUSPENDED" }),
        "organizations",
        "CloseAccount",
      ],
      [
        "setAccountStatus",
        () => ({ accountId: ids["account"]!, status: "ACTIVE" }),
        "organizations",
        "UpdateAccount",
      ],
      ["createOrgPolicy", () => ({ name: "TScp", content: doc }), "organizations", "CreatePolicy"],
      [
        "attachOrgPolicy",
        () => ({ policyId: ids["policy"]!, targetId: ids["account"]! }),
        "organizations",
        "AttachPolicy",
      ],
      [
        "detachOrgPolicy",
        () => ({ policyId: ids["policy"]!, targetId: ids["account"]! }),
        "organizations",
        "DetachPolicy",
      ],
      [
        "removeAccount",
        () => ({ accountId: ids["account"]! }),
        "organizations",
        "RemoveAccountFromOrganization",
      ],
      ["createIamUser", () => ({ accountId: member, userName: "t-user" }), "iam", "CreateUser"],
      ["createIamGroup", () => ({ accountId: member, groupName: "t-group" }), "iam", "CreateGroup"],
      [
        "addIamUserToGroup",
        () => ({ accountId: member, groupName: "t-group", userName: "t-user" }),
        "iam",
        "AddUserToGroup",
      ],
      [
        "removeIamUserFromGroup",
        () => ({ accountId: member, groupName: "t-group", userName: "t-user" }),
        "iam",
        "RemoveUserFromGroup",
      ],
      [
        "createIamRole",
        () => ({ accountId: member, roleName: "t-role", trustPolicy: doc }),
        "iam",
        "CreateRole",
      ],
      [
        "updateAssumeRolePolicy",
        () => ({ accountId: member, roleName: "t-role", document: doc }),
        "iam",
        "UpdateAssumeRolePolicy",
      ],
      ["attachPolicy", roleAttachment, "iam", "AttachRolePolicy"],
      ["detachPolicy", roleAttachment, "iam", "DetachRolePolicy"],
      [
        "putInlinePolicy",
        () => ({
          accountId: member,
          principalType: "group" as const,
          principalName: "t-group",
          policyName: "p",
          document: doc,
        }),
        "iam",
        "PutGroupPolicy",
      ],
      [
        "deleteInlinePolicy",
        () => ({
          accountId: member,
          principalType: "group" as const,
          principalName: "t-group",
          policyName: "p",
        }),
        "iam",
        "DeleteGroupPolicy",
      ],
      [
        "putPermissionsBoundary",
        () => ({ accountId: member, principal: "user" as const, name: "t-user", policyArn: managed }),
        "iam",
        "PutUserPermissionsBoundary",
      ],
      [
        "deletePermissionsBoundary",
        () => ({ accountId: member, principal: "user" as const, name: "t-user" }),
        "iam",
        "DeleteUserPermissionsBoundary",
      ],
      ["createAccessKey", () => ({ accountId: member, userName: "t-user" }), "iam", "CreateAccessKey"],
      [
        "updateAccessKey",
        () => ({ accountId: member, accessKeyId: ids["key"]!, status: "Inactive" }),
        "iam",
        "UpdateAccessKey",
      ],
      ["deleteAccessKey", () => ({ accountId: member, accessKeyId: ids["key"]! }), "iam", "DeleteAccessKey"],
      ["deleteIamGroup", () => ({ accountId: member, groupName: "t-group" }), "iam", "DeleteGroup"],
      ["deleteIamRole", () => ({ accountId: member, roleName: "t-role" }), "iam", "DeleteRole"],
      ["deleteIamUser", () => ({ accountId: member, userName: "t-user" }), "iam", "DeleteUser"],
    ];
    const covered = new Set(steps.map((s) => s[0]));
    expect(Object.keys(sim.mutate).filter((k) => !covered.has(k as keyof SimMutations))).toEqual([]);
    newEvents();
    const mismatches: string[] = [];
    for (const [name, args, svc, eventName] of steps) {
      const out = (sim.mutate[name] as (p: unknown) => unknown)(args()) as
        Record<string, unknown> | undefined;
      if (name === "createIdentityStoreUser") ids["user"] = out!["userId"] as string;
      if (name === "createIdentityStoreGroup") ids["group"] = out!["groupId"] as string;
      if (name === "createPermissionSet") ids["ps"] = out!["arn"] as string;
      if (name === "createAccount") seenAccounts.add((ids["account"] = out!["id"] as string));
      if (name === "createOrgPolicy") ids["policy"] = out!["id"] as string;
      if (name === "createAccessKey") ids["key"] = out!["id"] as string;
      const evs = newEvents();
      const ev = evs[0];
      const account = svc === "iam" ? member : mg;
      const region = svc === "iam" || svc === "organizations" ? "us-east-1" : IC_REGION;
      const got = ev && [ev.eventSource, ev.eventName, accountOf(ev), ev.region, ev.readOnly, ev.errorCode];
      const want = [`${svc}.amazonaws.com`, eventName, account, region, false, undefined];
      if (JSON.stringify(got) !== JSON.stringify(want))
        mismatches.push(`${name}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
      expect(ev?.record["userIdentity"]).toMatchObject({ type: "Root" });
      if (eventName === "CreateAccount") {
        // AWS's CreateAccount is asynchronous: the account id arrives in the CreateAccountResult service event.
        expect(ev!.record["responseElements"]).toMatchObject({
          createAccountStatus: { state: "IN_PROGRESS" },
        });
        expect(evs[1]!.eventName).toBe("CreateAccountResult");
        expect(evs[1]!.record).toMatchObject({
          eventType: "AwsServiceEvent",
          serviceEventDetails: { createAccountStatus: { state: "SUCCEEDED", accountId: ids["account"] } },
        });
      }
    }
    expect(mismatches).toEqual([]);

    // Request members are the APIs' (camelCase), checked against the Smithy models.
    const all = [...new Set([mg, member, ...seenAccounts])].flatMap((a) => sim.trail(a));
    expect(all.filter((e) => TRAILS_OF[e.eventSource]).length).toBeGreaterThan(40);
    const unknown: string[] = [];
    for (const e of all) {
      const model = TRAILS_OF[e.eventSource];
      if (!model || e.record["eventType"] !== "AwsApiCall" || e.eventName === "UpdateAccount") continue;
      const m = loadModel(model);
      const input = operationShape(m, e.eventName).input!.target;
      unknown.push(
        ...checkMembers(m, input, e.record["requestParameters"], `${e.eventSource} ${e.eventName}`),
      );
    }
    expect(unknown).toEqual([]);
    const params = (name: string, src: string): unknown =>
      all.find((e) => e.eventName === name && e.eventSource === src)!.record["requestParameters"];
    expect(Object.keys(params("CreateAccountAssignment", "sso.amazonaws.com") as object).sort()).toEqual([
      "instanceArn",
      "permissionSetArn",
      "principalId",
      "principalType",
      "targetId",
      "targetType",
    ]);
    expect(params("DeleteGroupMembership", "identitystore.amazonaws.com")).toEqual({
      identityStoreId: sim.identityStoreId,
      membershipId: expect.any(String) as unknown,
    });
    expect(params("CreateGroupMembership", "identitystore.amazonaws.com")).toEqual({
      identityStoreId: sim.identityStoreId,
      groupId: ids["group"],
      memberId: { userId: ids["user"] },
    });
    expect(params("AttachRolePolicy", "iam.amazonaws.com")).toEqual({
      roleName: "t-role",
      policyArn: managed,
    });
    expect(params("AttachPolicy", "organizations.amazonaws.com")).toEqual({
      policyId: ids["policy"],
      targetId: ids["account"],
    });
  });

  it("a failing mutation is recorded as the failed call (errorCode, in the right account) and changes nothing", () => {
    const mg = sim.managementAccountId;
    const member = sim.exportOrg().accounts.find((a) => a.id !== mg)!.id;
    newEvents();
    const before = JSON.stringify(sim.exportOrg());
    expect(() =>
      sim.mutate.addIamUserToGroup({ accountId: member, groupName: "admins", userName: "ghost" }),
    ).toThrow();
    expect(() =>
      sim.mutate.addGroupMembership({
        groupId: "0123456789-00000000-0000-4000-a000-000000000000",
        userId: "x",
      }),
    ).toThrow();
    expect(() => sim.mutate.attachOrgPolicy({ policyId: "p-nope000000", targetId: member })).toThrow();
    expect(JSON.stringify(sim.exportOrg())).toBe(before);
    const evs = newEvents();
    expect(evs.map((e) => [e.eventSource, e.eventName, accountOf(e), e.errorCode, e.readOnly])).toEqual([
      ["iam.amazonaws.com", "AddUserToGroup", member, "NoSuchEntity", false],
      ["identitystore.amazonaws.com", "CreateGroupMembership", mg, "ResourceNotFoundException", false],
      ["organizations.amazonaws.com", "AttachPolicy", mg, "PolicyNotFoundException", false],
    ]);
    expect(evs[0]!.record).toMatchObject({
      requestParameters: { groupName: "admins", userName: "ghost" },
      errorMessage: expect.stringContaining("ghost") as unknown,
      responseElements: null,
    });
  });

  it("Identity Store changes via SCIM are recorded under identitystore-scim.amazonaws.com with SCIM's names", () => {
    const mg = sim.managementAccountId;
    newEvents();
    const u = sim.mutate.createIdentityStoreUser({
      userName: "scim.user",
      displayName: "Scim User",
      givenName: "Scim",
      familyName: "User",
      via: "scim",
    });
    const g = sim.mutate.createIdentityStoreGroup({ displayName: "Scim Group", via: "scim" });
    sim.mutate.addGroupMembership({ groupId: g.groupId, userId: u.userId, via: "scim" });
    expect(() =>
      sim.mutate.addGroupMembership({ groupId: g.groupId, userId: u.userId, via: "scim" }),
    ).toThrow();
    sim.mutate.removeGroupMembership({ groupId: g.groupId, userId: u.userId, via: "scim" });
    sim.mutate.disableIdentityStoreUser({ userId: u.userId, via: "scim" });
    sim.mutate.enableIdentityStoreUser({ userId: u.userId, via: "scim" });
    sim.mutate.deleteIdentityStoreGroup({ groupId: g.groupId, via: "scim" });
    sim.mutate.deleteIdentityStoreUser({ userId: u.userId, via: "scim" });
    const evs = newEvents();
    expect(evs.map((e) => [e.eventSource, e.eventName, accountOf(e), e.region, e.errorCode ?? null])).toEqual(
      [
        ["CreateUser", null],
        ["CreateGroup", null],
        ["PatchGroup", null],
        ["PatchGroup", "ConflictException"],
        ["PatchGroup", null],
        ["PatchUser", null],
        ["PatchUser", null],
        ["DeleteGroup", null],
        ["DeleteUser", null],
      ].map(([n, err]) => ["identitystore-scim.amazonaws.com", n, mg, IC_REGION, err]),
    );
    expect(evs[0]!.record).toMatchObject({
      userIdentity: { type: "WebIdentityUser", accountId: mg },
      requestParameters: { httpBody: { userName: "HIDDEN_DUE_TO_SECURITY_REASONS" } },
      responseElements: { id: u.userId },
    });
    expect(evs[2]!.record["requestParameters"]).toMatchObject({
      groupId: g.groupId,
      httpBody: { Operations: [{ op: "add", path: "members", value: [{ value: u.userId }] }] },
    });
    expect(evs[5]!.record["requestParameters"]).toMatchObject({
      userId: u.userId,
      httpBody: { Operations: [{ op: "replace", path: "active", value: false }] },
    });
    for (const e of evs) expect(JSON.stringify(e.record)).not.toMatch(/scim\.user|Scim Group/);
    expect(() => sim.mutate.createIamUser({ accountId: mg, userName: "x", via: "scim" })).toThrow(
      /Identity Store/,
    );
  });

  it("Identity Center events follow the 2025 format: no names, ids in parameters, IdentityCenterUser callers", () => {
    const mg = sim.managementAccountId;
    const ic = sim.exportOrg().identityCenter!;
    const admin = ic.users[0]!.userId;
    newEvents();
    const u = sim.mutate.createIdentityStoreUser({
      userName: "new.person@example.com",
      displayName: "New Person",
      givenName: "New",
      familyName: "Person",
      onBehalfOf: admin,
    });
    const g = sim.mutate.createIdentityStoreGroup({ displayName: "Very Secret Group", onBehalfOf: admin });
    sim.mutate.createAccountAssignment({
      accountId: mg,
      permissionSetArn: ic.permissionSets[0]!.arn,
      principalType: "GROUP",
      principalId: g.groupId,
      onBehalfOf: admin,
    });
    const [cu, cg, ca] = newEvents();
    for (const e of [cu!, cg!, ca!]) {
      expect(e.record["userIdentity"]).toEqual({
        type: "IdentityCenterUser",
        accountId: mg,
        onBehalfOf: {
          userId: admin,
          identityStoreArn: `arn:aws:identitystore::${mg}:identitystore/${sim.identityStoreId}`,
        },
      });
      expect(JSON.stringify(e.record)).not.toMatch(/new\.person|New Person|Very Secret Group/);
    }
    expect(cu!.record["responseElements"]).toEqual({
      identityStoreId: sim.identityStoreId,
      userId: u.userId,
    });
    expect(cg!.record["responseElements"]).toEqual({
      identityStoreId: sim.identityStoreId,
      groupId: g.groupId,
    });
    expect(ca!.record["requestParameters"]).toMatchObject({ principalType: "GROUP", principalId: g.groupId });
  });
});
