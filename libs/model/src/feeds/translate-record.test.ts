import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { ChangeRecord, RefreshIntent } from "@grantline/contracts";
import { IGNORED, translateRecord, translatedEvents } from "./translate-record.ts";

const MGMT = "111122223333";
const MEMBER = "444455556666";
const INSTANCE = "arn:aws:sso:::instance/ssoins-7223a2f1d5c2a1b0";
const PS = "arn:aws:sso:::permissionSet/ssoins-7223a2f1d5c2a1b0/ps-0d6a1b2c3d4e5f60";
const STORE = "d-9067a1b2c3";
const USER_ID = "c4488478-a0e1-700e-3d75-96c6bb641596";
const GROUP_ID = "94482488-3041-7026-18f0-7b8e5c2e91a1";

/** The pre-2025 caller: an IAM role session with a user name. */
const OLD_CALLER = {
  type: "AssumedRole",
  principalId: "AROAEXAMPLE:alice",
  arn: `arn:aws:sts::${MGMT}:assumed-role/AWSReservedSSO_Admin_0123/alice`,
  accountId: MGMT,
  userName: "alice",
};
/** The 2025 Identity Center caller: no user name, `onBehalfOf` and the identity store's ARN. */
const NEW_CALLER = {
  type: "IdentityCenterUser",
  accountId: MGMT,
  onBehalfOf: { userId: USER_ID, identityStoreArn: `arn:aws:identitystore::${MGMT}:identitystore/${STORE}` },
  credentialId: "EXAMPLEcredentialId",
};

let n = 0;
function rec(
  eventSource: string,
  eventName: string,
  requestParameters: Record<string, unknown> | null,
  more: Partial<ChangeRecord> = {},
): ChangeRecord {
  n++;
  return {
    eventId: `0f7d6a0e-1c1b-4b5e-9a54-${String(n).padStart(12, "0")}`,
    eventTime: "2026-11-30T12:00:00Z",
    eventSource,
    eventName,
    readOnly: false,
    errorCode: null,
    accountId: eventSource === "iam.amazonaws.com" ? MEMBER : MGMT,
    region: "us-east-1",
    requestParameters,
    responseElements: null,
    userIdentity: OLD_CALLER,
    ...more,
  };
}

const SSO = "sso.amazonaws.com";
const IDS = "identitystore.amazonaws.com";
const SCIM = "identitystore-scim.amazonaws.com";
const ORG = "organizations.amazonaws.com";
const IAM = "iam.amazonaws.com";

const ps: RefreshIntent = { kind: "permission-set", instanceArn: INSTANCE, permissionSetArn: PS };
const psAccounts: RefreshIntent = {
  kind: "permission-set-accounts",
  instanceArn: INSTANCE,
  permissionSetArn: PS,
};
const psReq = { instanceArn: INSTANCE, permissionSetArn: PS };
const ssoUser: RefreshIntent = { kind: "sso-user", identityStoreId: STORE, userId: USER_ID };
const ssoGroup: RefreshIntent = { kind: "sso-group", identityStoreId: STORE, groupId: GROUP_ID };
const members: RefreshIntent = { kind: "group-members", identityStoreId: STORE, groupId: GROUP_ID };
const role = (roleName = "deploy"): RefreshIntent => ({ kind: "iam-role", accountId: MEMBER, roleName });
const user = (userName = "bob"): RefreshIntent => ({ kind: "iam-user", accountId: MEMBER, userName });
const group = (groupName = "ops"): RefreshIntent => ({ kind: "iam-group", accountId: MEMBER, groupName });
const CUSTOMER_POLICY = `arn:aws:iam::${MEMBER}:policy/team/deploy-boundary`;
const AWS_POLICY = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const policy = (policyArn = CUSTOMER_POLICY): RefreshIntent => ({
  kind: "iam-policy",
  accountId: MEMBER,
  policyArn,
});

/** One translated case per table row: [record, expected intents]. */
const CASES: Array<[ChangeRecord, RefreshIntent[]]> = [
  // sso.amazonaws.com
  ...(["CreateAccountAssignment", "DeleteAccountAssignment"] as const).map(
    (name): [ChangeRecord, RefreshIntent[]] => [
      rec(SSO, name, {
        ...psReq,
        targetId: MEMBER,
        targetType: "AWS_ACCOUNT",
        principalType: "GROUP",
        principalId: GROUP_ID,
      }),
      [{ kind: "assignments", instanceArn: INSTANCE, accountId: MEMBER, permissionSetArn: PS }],
    ],
  ),
  [
    rec(
      SSO,
      "CreatePermissionSet",
      { instanceArn: INSTANCE, name: "Admin", sessionDuration: "PT8H" },
      {
        responseElements: { permissionSet: { name: "Admin", permissionSetArn: PS, sessionDuration: "PT8H" } },
      },
    ),
    [ps],
  ],
  ...[
    "UpdatePermissionSet",
    "DeletePermissionSet",
    "PutInlinePolicyToPermissionSet",
    "DeleteInlinePolicyFromPermissionSet",
    "AttachManagedPolicyToPermissionSet",
    "DetachManagedPolicyFromPermissionSet",
    "AttachCustomerManagedPolicyReferenceToPermissionSet",
    "DetachCustomerManagedPolicyReferenceFromPermissionSet",
    "PutPermissionsBoundaryToPermissionSet",
    "DeletePermissionsBoundaryFromPermissionSet",
  ].map((name): [ChangeRecord, RefreshIntent[]] => [rec(SSO, name, psReq), [ps]]),
  [
    rec(SSO, "ProvisionPermissionSet", { ...psReq, targetId: MEMBER, targetType: "AWS_ACCOUNT" }),
    [ps, psAccounts],
  ],
  [rec(SSO, "CreateInstance", { name: "main" }), [{ kind: "source" }]],
  [rec(SSO, "DeleteInstance", { instanceArn: INSTANCE }), [{ kind: "source" }]],

  // identitystore.amazonaws.com, 2025 format (ids only, onBehalfOf)
  [
    rec(
      IDS,
      "CreateUser",
      { identityStoreId: STORE },
      {
        userIdentity: NEW_CALLER,
        responseElements: { userId: USER_ID, identityStoreId: STORE },
      },
    ),
    [ssoUser],
  ],
  ...["UpdateUser", "DeleteUser"].map((name): [ChangeRecord, RefreshIntent[]] => [
    rec(IDS, name, { identityStoreId: STORE, userId: USER_ID }, { userIdentity: NEW_CALLER }),
    [ssoUser],
  ]),
  [
    rec(
      IDS,
      "CreateGroup",
      { identityStoreId: STORE },
      {
        userIdentity: NEW_CALLER,
        responseElements: { groupId: GROUP_ID, identityStoreId: STORE },
      },
    ),
    [ssoGroup],
  ],
  ...["UpdateGroup", "DeleteGroup"].map((name): [ChangeRecord, RefreshIntent[]] => [
    rec(IDS, name, { identityStoreId: STORE, groupId: GROUP_ID }, { userIdentity: NEW_CALLER }),
    [ssoGroup],
  ]),
  [
    rec(
      IDS,
      "CreateGroupMembership",
      { identityStoreId: STORE, groupId: GROUP_ID, memberId: { userId: USER_ID } },
      {
        responseElements: { membershipId: "m-1", identityStoreId: STORE },
      },
    ),
    [members],
  ],
  [
    rec(IDS, "DeleteGroupMembership", { identityStoreId: STORE, membershipId: "m-1" }),
    [{ kind: "membership", identityStoreId: STORE, membershipId: "m-1" }],
  ],
  ...["AddMemberToGroup", "RemoveMemberFromGroup"].map((name): [ChangeRecord, RefreshIntent[]] => [
    rec(IDS, name, { identityStoreId: STORE, groupId: GROUP_ID, member: { memberId: USER_ID } }),
    [members],
  ]),
  ...["DisableUser", "EnableUser"].map((name): [ChangeRecord, RefreshIntent[]] => [
    rec(IDS, name, { identityStoreId: STORE, userId: USER_ID }),
    [ssoUser],
  ]),

  // identitystore-scim.amazonaws.com: ids in the response (create) or the request path params
  [
    rec(
      SCIM,
      "CreateUser",
      { httpBody: { userName: "HIDDEN_DUE_TO_SECURITY_REASONS", active: true }, tenantId: "t" },
      {
        userIdentity: { type: "WebIdentityUser", accountId: MGMT, accessKeyId: "xxxx" },
        responseElements: { id: USER_ID, meta: { resourceType: "User" }, active: true },
      },
    ),
    [ssoUser],
  ],
  ...["PutUser", "PatchUser", "DeleteUser"].map((name): [ChangeRecord, RefreshIntent[]] => [
    rec(SCIM, name, { userId: USER_ID, tenantId: "t" }),
    [ssoUser],
  ]),
  [
    rec(
      SCIM,
      "CreateGroup",
      { httpBody: { displayName: "HIDDEN_DUE_TO_SECURITY_REASONS" }, tenantId: "t" },
      {
        responseElements: { id: GROUP_ID, meta: { resourceType: "Group" } },
      },
    ),
    [ssoGroup],
  ],
  [
    rec(SCIM, "PatchGroup", {
      groupId: GROUP_ID,
      tenantId: "t",
      httpBody: {
        schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        Operations: [{ op: "add", path: "members", value: [{ value: USER_ID }] }],
      },
    }),
    [members],
  ],
  [rec(SCIM, "DeleteGroup", { groupId: GROUP_ID, tenantId: "t" }), [ssoGroup]],

  // organizations.amazonaws.com
  [
    rec(
      ORG,
      "CreateAccount",
      { accountName: "HIDDEN", email: "HIDDEN" },
      {
        responseElements: { createAccountStatus: { id: "car-1", state: "IN_PROGRESS" } },
      },
    ),
    [{ kind: "source" }],
  ],
  [rec(ORG, "CreateGovCloudAccount", { accountName: "gov" }), [{ kind: "source" }]],
  ...["CloseAccount", "RemoveAccountFromOrganization", "UpdateAccount"].map(
    (name): [ChangeRecord, RefreshIntent[]] => [
      rec(ORG, name, { accountId: MEMBER }),
      [{ kind: "account", accountId: MEMBER }],
    ],
  ),
  [
    rec(ORG, "MoveAccount", {
      accountId: MEMBER,
      sourceParentId: "r-ab12",
      destinationParentId: "ou-ab12-cdefgh34",
    }),
    [{ kind: "account", accountId: MEMBER }],
  ],
  ...["LeaveOrganization", "AcceptHandshake"].map((name): [ChangeRecord, RefreshIntent[]] => [
    rec(ORG, name, name === "AcceptHandshake" ? { handshakeId: "h-1" } : null, { accountId: MEMBER }),
    [{ kind: "account", accountId: MEMBER }],
  ]),
  ...["CreateOrganizationalUnit", "UpdateOrganizationalUnit", "DeleteOrganizationalUnit"].map(
    (name): [ChangeRecord, RefreshIntent[]] => [
      rec(ORG, name, { parentId: "r-ab12", name: "Prod" }),
      [{ kind: "organization-tree" }],
    ],
  ),
  ...["AttachPolicy", "DetachPolicy"].map((name): [ChangeRecord, RefreshIntent[]] => [
    rec(ORG, name, { policyId: "p-examplepolicyid111", targetId: "ou-ab12-cdefgh34" }),
    [{ kind: "org-policy-targets", policyId: "p-examplepolicyid111" }],
  ]),
  [
    rec(
      ORG,
      "CreatePolicy",
      { name: "DenyS3", type: "SERVICE_CONTROL_POLICY", content: "{}" },
      {
        responseElements: {
          policy: { policySummary: { id: "p-examplepolicyid111", type: "SERVICE_CONTROL_POLICY" } },
        },
      },
    ),
    [{ kind: "org-policy", policyId: "p-examplepolicyid111" }],
  ],
  [
    rec(ORG, "UpdatePolicy", { policyId: "p-examplepolicyid111", content: "{}" }),
    [{ kind: "org-policy", policyId: "p-examplepolicyid111" }],
  ],
  [
    rec(ORG, "DeletePolicy", { policyId: "p-examplepolicyid111" }),
    [
      { kind: "org-policy", policyId: "p-examplepolicyid111" },
      { kind: "org-policy-targets", policyId: "p-examplepolicyid111" },
    ],
  ],
  ...["EnablePolicyType", "DisablePolicyType"].map((name): [ChangeRecord, RefreshIntent[]] => [
    rec(ORG, name, { rootId: "r-ab12", policyType: "RESOURCE_CONTROL_POLICY" }),
    [{ kind: "source" }],
  ]),
  [rec(ORG, "CreateOrganization", { featureSet: "ALL" }), [{ kind: "source" }]],
  [rec(ORG, "DeleteOrganization", null), [{ kind: "source" }]],

  // iam.amazonaws.com (recipientAccountId = the member account)
  ...[
    "CreateRole",
    "DeleteRole",
    "UpdateRole",
    "UpdateRoleDescription",
    "PutRolePolicy",
    "DeleteRolePolicy",
    "PutRolePermissionsBoundary",
    "DeleteRolePermissionsBoundary",
    "TagRole",
    "UntagRole",
    "DeleteServiceLinkedRole",
  ].map((name): [ChangeRecord, RefreshIntent[]] => [rec(IAM, name, { roleName: "deploy" }), [role()]]),
  [
    rec(IAM, "UpdateAssumeRolePolicy", { roleName: "deploy", policyDocument: '{"Version":"2012-10-17"}' }),
    [role()],
  ],
  [
    rec(
      IAM,
      "CreateServiceLinkedRole",
      { aWSServiceName: "elasticbeanstalk.amazonaws.com" },
      {
        responseElements: {
          role: { roleName: "AWSServiceRoleForElasticBeanstalk", path: "/aws-service-role/" },
        },
      },
    ),
    [role("AWSServiceRoleForElasticBeanstalk")],
  ],
  [rec(IAM, "AttachRolePolicy", { roleName: "deploy", policyArn: CUSTOMER_POLICY }), [role()]],
  [rec(IAM, "DetachRolePolicy", { roleName: "deploy", policyArn: AWS_POLICY }), [role(), policy(AWS_POLICY)]],
  ...[
    "CreateUser",
    "DeleteUser",
    "PutUserPolicy",
    "DeleteUserPolicy",
    "PutUserPermissionsBoundary",
    "DeleteUserPermissionsBoundary",
    "TagUser",
    "UntagUser",
  ].map((name): [ChangeRecord, RefreshIntent[]] => [rec(IAM, name, { userName: "bob" }), [user()]]),
  [rec(IAM, "UpdateUser", { userName: "bob", newUserName: "robert" }), [user(), user("robert")]],
  [rec(IAM, "AttachUserPolicy", { userName: "bob", policyArn: AWS_POLICY }), [user(), policy(AWS_POLICY)]],
  [rec(IAM, "DetachUserPolicy", { userName: "bob", policyArn: CUSTOMER_POLICY }), [user()]],
  ...[
    "AddUserToGroup",
    "RemoveUserFromGroup",
    "CreateGroup",
    "DeleteGroup",
    "PutGroupPolicy",
    "DeleteGroupPolicy",
  ].map((name): [ChangeRecord, RefreshIntent[]] => [
    rec(IAM, name, { groupName: "ops", userName: "bob" }),
    [group()],
  ]),
  [rec(IAM, "UpdateGroup", { groupName: "ops", newPath: "/teams/" }), [group()]],
  [rec(IAM, "AttachGroupPolicy", { groupName: "ops", policyArn: AWS_POLICY }), [group(), policy(AWS_POLICY)]],
  [rec(IAM, "DetachGroupPolicy", { groupName: "ops", policyArn: CUSTOMER_POLICY }), [group()]],
  ...["CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey"].map(
    (name): [ChangeRecord, RefreshIntent[]] => [
      rec(IAM, name, { userName: "bob", accessKeyId: "AKIAIOSFODNN7EXAMPLE" }),
      [{ kind: "iam-user-keys", accountId: MEMBER, userName: "bob" }],
    ],
  ),
  [
    rec(
      IAM,
      "CreatePolicy",
      { policyName: "deploy-boundary", path: "/team/", policyDocument: "{}" },
      {
        responseElements: { policy: { arn: CUSTOMER_POLICY, policyName: "deploy-boundary" } },
      },
    ),
    [policy()],
  ],
  [rec(IAM, "DeletePolicy", { policyArn: CUSTOMER_POLICY }), [policy()]],
  [rec(IAM, "SetDefaultPolicyVersion", { policyArn: CUSTOMER_POLICY, versionId: "v2" }), [policy()]],
  [
    rec(IAM, "CreatePolicyVersion", { policyArn: CUSTOMER_POLICY, policyDocument: "{}", setAsDefault: true }),
    [policy()],
  ],
  ...["CreateAccountAlias", "DeleteAccountAlias"].map((name): [ChangeRecord, RefreshIntent[]] => [
    rec(IAM, name, { accountAlias: "acme-prod" }),
    [{ kind: "iam-account", accountId: MEMBER }],
  ]),
];

describe("translateRecord: the table", () => {
  it.each(CASES.map(([r, want]) => [`${r.eventSource} ${r.eventName}`, r, want] as const))(
    "%s",
    (_, r, want) => {
      const t = translateRecord(r, { identityStoreId: STORE, instanceArn: INSTANCE });
      expect(t.outcome).toBe("translated");
      expect(t.intents).toEqual(want);
    },
  );

  it("has a case for every row of the table", () => {
    const covered = new Set(CASES.map(([r]) => `${r.eventSource} ${r.eventName}`));
    const rows = Object.entries(translatedEvents())
      // The console-style source shares the identitystore table.
      .filter(([s]) => s !== "sso-directory.amazonaws.com")
      .flatMap(([s, names]) => names.map((x) => `${s} ${x}`));
    expect(rows.filter((r) => !covered.has(r))).toEqual([]);
  });

  it("docs/freshness-events.md names every translated and every ignored event", () => {
    const doc = readFileSync(new URL("../../../../docs/freshness-events.md", import.meta.url), "utf8");
    const names = [
      ...Object.values(translatedEvents()),
      ...Object.values(IGNORED).map((m) => Object.keys(m)),
    ].flat();
    expect(names.filter((x) => !doc.includes(`\`${x}\``))).toEqual([]);
  });

  it("never names a deliberately ignored event in the table", () => {
    const table = translatedEvents();
    for (const [source, names] of Object.entries(IGNORED))
      for (const name of Object.keys(names)) expect(table[source] ?? []).not.toContain(name);
  });
});

describe("translateRecord: Identity Center formats", () => {
  it("reads the identity store from the 2025 caller's identityStoreArn when the request does not name it", () => {
    const r = rec(IDS, "DeleteUser", { userId: USER_ID }, { userIdentity: NEW_CALLER });
    expect(translateRecord(r).intents).toEqual([ssoUser]);
  });

  it("handles the pre-2025 format (user name in userIdentity, ids in requestParameters)", () => {
    const r = rec(IDS, "UpdateUser", { identityStoreId: STORE, userId: USER_ID, operations: [] });
    expect(translateRecord(r)).toEqual({ outcome: "translated", intents: [ssoUser] });
  });

  it("takes SCIM ids' identity store from the context (SCIM names only its tenant)", () => {
    const r = rec(SCIM, "DeleteUser", { userId: USER_ID, tenantId: "t" });
    expect(translateRecord(r, { identityStoreId: STORE }).intents).toEqual([ssoUser]);
    const t = translateRecord(r);
    expect(t.outcome).toBe("unknown");
    expect(t.intents).toEqual([]);
    expect(t.reason).toMatch(/identityStoreId.*full sync/);
  });

  it("SCIM PatchGroup: a rename re-reads the group, a hidden body both the group and its members", () => {
    const rename = rec(SCIM, "PatchGroup", {
      groupId: GROUP_ID,
      httpBody: { Operations: [{ op: "replace", value: { id: GROUP_ID, displayName: "Group Foo New" } }] },
    });
    expect(translateRecord(rename, { identityStoreId: STORE }).intents).toEqual([ssoGroup]);
    const hidden = rec(SCIM, "PatchGroup", { groupId: GROUP_ID, httpBody: "HIDDEN_DUE_TO_SECURITY_REASONS" });
    expect(translateRecord(hidden, { identityStoreId: STORE }).intents).toEqual([ssoGroup, members]);
  });

  it("takes the instance from the context when an sso event omits it", () => {
    const r = rec(SSO, "UpdatePermissionSet", { permissionSetArn: PS });
    expect(translateRecord(r, { instanceArn: INSTANCE }).intents).toEqual([ps]);
  });
});

describe("translateRecord: skipped, ignored, unknown", () => {
  it("a failed call and a read-only event yield nothing", () => {
    const failed = rec(IAM, "DeleteRole", { roleName: "deploy" }, { errorCode: "DeleteConflictException" });
    expect(translateRecord(failed)).toEqual({ outcome: "failed-call", intents: [] });
    const read = rec(IAM, "GetRole", { roleName: "deploy" }, { readOnly: true });
    expect(translateRecord(read)).toEqual({ outcome: "read-only", intents: [] });
  });

  it.each([
    [IAM, "ChangePassword", /password/],
    [IAM, "EnableMFADevice", /MFA/],
    [SSO, "Federate", /portal/],
    [SSO, "CreateApplicationAssignment", /applications/],
    [IDS, "CreateMfaDeviceForUser", /MFA/],
    [ORG, "InviteAccountToOrganization", /accepts/],
    [IAM, "CreatePolicyVersion", /default/],
    [SSO, "ListAccountRoles", /read/],
  ])("ignores %s %s with its reason", (source, name, why) => {
    const t = translateRecord(rec(source, name, { policyArn: CUSTOMER_POLICY, setAsDefault: false }));
    expect(t.outcome).toBe("ignored");
    expect(t.intents).toEqual([]);
    expect(t.reason).toMatch(why);
  });

  it("an IAM event not in the table refreshes the record's account's whole IAM", () => {
    const t = translateRecord(rec(IAM, "PutRoleSomethingNew", { roleName: "deploy" }));
    expect(t).toMatchObject({ outcome: "unknown", intents: [{ kind: "iam-account", accountId: MEMBER }] });
    expect(t.reason).toMatch(/PutRoleSomethingNew/);
  });

  it("an IAM event of the table missing its ids is unknown, with the account's IAM as the broader refresh", () => {
    for (const r of [rec(IAM, "AttachRolePolicy", { roleName: "deploy" }), rec(IAM, "DeleteRole", null)]) {
      const t = translateRecord(r);
      expect(t.outcome).toBe("unknown");
      expect(t.intents).toEqual([{ kind: "iam-account", accountId: MEMBER }]);
    }
  });

  it("an IAM event with no recipient account cannot be narrowed or broadened", () => {
    const t = translateRecord(rec(IAM, "DeleteRole", { roleName: "deploy" }, { accountId: null }));
    expect(t).toMatchObject({ outcome: "unknown", intents: [] });
  });

  it("unknown or unparseable events of the other sources are unknown with no intent, and say why", () => {
    for (const r of [
      rec(SSO, "SomeNewSsoMutation", psReq),
      rec(SSO, "CreateAccountAssignment", { instanceArn: INSTANCE }),
      rec(ORG, "AttachPolicy", { targetId: MEMBER }),
      rec(IDS, "DeleteGroupMembership", { identityStoreId: STORE }),
    ]) {
      const t = translateRecord(r);
      expect(t.outcome).toBe("unknown");
      expect(t.intents).toEqual([]);
      expect(t.reason).toMatch(/full sync/);
    }
  });

  it("an id that fails the intent's schema is unparseable, not a bad intent", () => {
    const t = translateRecord(rec(ORG, "CloseAccount", { accountId: "not-an-account" }));
    expect(t.outcome).toBe("unknown");
  });

  it("an assignment's account may come from the response's status (request without targetId)", () => {
    const r = rec(SSO, "DeleteAccountAssignment", psReq, {
      responseElements: { accountAssignmentDeletionStatus: { status: "IN_PROGRESS", targetId: MEMBER } },
    });
    expect(translateRecord(r).intents).toEqual([
      { kind: "assignments", instanceArn: INSTANCE, accountId: MEMBER, permissionSetArn: PS },
    ]);
  });

  it("an assignment whose target is not an account falls back to every pair of the permission set", () => {
    const r = rec(SSO, "CreateAccountAssignment", {
      ...psReq,
      targetId: "HIDDEN",
      targetType: "AWS_ACCOUNT",
    });
    expect(translateRecord(r).intents).toEqual([psAccounts]);
  });

  it("CreateAccount with a completed status refreshes that account; CreatePolicy without a response builds the ARN", () => {
    const done = rec(
      ORG,
      "CreateAccount",
      { accountName: "x" },
      {
        responseElements: { createAccountStatus: { state: "SUCCEEDED", accountId: MEMBER } },
      },
    );
    expect(translateRecord(done).intents).toEqual([{ kind: "account", accountId: MEMBER }]);
    const pol = rec(IAM, "CreatePolicy", { policyName: "deploy-boundary", path: "/team/" });
    expect(translateRecord(pol).intents).toEqual([policy()]);
  });

  it("a user's own CreateAccessKey without UserName names the calling user", () => {
    const r = rec(
      IAM,
      "CreateAccessKey",
      {},
      {
        userIdentity: {
          type: "IAMUser",
          accountId: MEMBER,
          userName: "carol",
          arn: `arn:aws:iam::${MEMBER}:user/carol`,
        },
        responseElements: { accessKey: { accessKeyId: "AKIA…", status: "Active" } },
      },
    );
    expect(translateRecord(r).intents).toEqual([
      { kind: "iam-user-keys", accountId: MEMBER, userName: "carol" },
    ]);
  });

  it("an event of a source outside the feeds is ignored", () => {
    expect(translateRecord(rec("s3.amazonaws.com", "PutObject", {})).outcome).toBe("ignored");
  });

  it("never throws on malformed parameters", () => {
    const weird = rec(SCIM, "PatchGroup", { groupId: GROUP_ID, httpBody: { Operations: [null, 3, "x"] } });
    expect(() => translateRecord(weird, { identityStoreId: STORE })).not.toThrow();
  });
});
