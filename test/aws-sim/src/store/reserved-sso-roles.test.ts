import {
  GetAccountAuthorizationDetailsCommand,
  GetRoleCommand,
  GetUserCommand,
  ListRolesCommand,
  ListSAMLProvidersCommand,
  PutRolePermissionsBoundaryCommand,
  PutUserPermissionsBoundaryCommand,
  UpdateAssumeRolePolicyCommand,
} from "@aws-sdk/client-iam";
import {
  AttachPolicyCommand,
  DescribeAccountCommand,
  DescribePolicyCommand,
  DetachPolicyCommand,
  ListPoliciesCommand,
  ListPoliciesForTargetCommand,
  ListRootsCommand,
  ListTargetsForPolicyCommand,
} from "@aws-sdk/client-organizations";
import {
  DescribePermissionSetCommand,
  GetPermissionsBoundaryForPermissionSetCommand,
  PutPermissionsBoundaryToPermissionSetCommand,
} from "@aws-sdk/client-sso-admin";
import { AssumeRoleCommand } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCESS_ROLE } from "../generate-org.ts";
import { startAwsSim } from "../sim.ts";
import type { AwsSim } from "../sim.ts";
import { clients } from "../test-support.ts";
import { RESERVED_SSO_PATH } from "./reserved-sso-roles.ts";

let sim: AwsSim;
let member: string;
beforeAll(async () => {
  sim = await startAwsSim({ preset: "small", seed: 4 });
  member = sim
    .exportOrg()
    .accounts.find((a) => a.id !== sim.managementAccountId && a.status === "ACTIVE")!.id;
});
afterAll(async () => {
  await sim.close();
});
const err = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );
async function memberClients() {
  const r = await clients(sim).sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${member}:role/${ACCESS_ROLE}`,
      RoleSessionName: "test-session",
    }),
  );
  const c = r.Credentials!;
  return clients(sim, {
    accessKeyId: c.AccessKeyId!,
    secretAccessKey: c.SecretAccessKey!,
    sessionToken: c.SessionToken!,
  });
}
const reservedIn = (acct: string, psName: string) =>
  sim
    .exportOrg()
    .accounts.find((a) => a.id === acct)!
    .iam.roles.filter((r) => r.name.startsWith(`AWSReservedSSO_${psName}_`));

describe("Identity Center reserved roles", () => {
  it("an assignment creates the role (IAM lists it, refuses edits); the last deletion removes it", async () => {
    const ps = sim.mutate.createPermissionSet({
      name: "Reserved-Test",
      managedPolicies: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
      inlinePolicy:
        '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}',
      customerManagedPolicyReferences: [{ name: "deploy-policy" }, { name: "absent-policy" }],
    });
    sim.mutate.putPermissionSetBoundary({
      permissionSetArn: ps.arn,
      boundary: { managedPolicyArn: "arn:aws:iam::aws:policy/PowerUserAccess" },
    });
    const [u1, u2] = sim.exportOrg().identityCenter!.users;
    const assign = (userId: string) => ({
      accountId: member,
      permissionSetArn: ps.arn,
      principalType: "USER" as const,
      principalId: userId,
    });
    sim.mutate.createAccountAssignment(assign(u1!.userId));
    sim.mutate.createAccountAssignment(assign(u2!.userId));
    const [role] = reservedIn(member, "Reserved-Test");
    expect(role).toMatchObject({
      path: RESERVED_SSO_PATH,
      attachedPolicies: [
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        `arn:aws:iam::${member}:policy/deploy-policy`,
      ],
      inlinePolicies: [{ name: "AwsSSOInlinePolicy" }],
      permissionsBoundary: "arn:aws:iam::aws:policy/PowerUserAccess",
    });
    expect(role!.name).toMatch(/^AWSReservedSSO_Reserved-Test_[0-9a-f]{16}$/);

    const c = await memberClients();
    const listed = await c.iam.send(new ListRolesCommand({ PathPrefix: RESERVED_SSO_PATH }));
    expect(listed.Roles!.map((r) => r.RoleName)).toContain(role!.name);
    expect(listed.Roles!.every((r) => r.Path === RESERVED_SSO_PATH)).toBe(true);
    const saml = await c.iam.send(new ListSAMLProvidersCommand({}));
    const provider = saml
      .SAMLProviderList!.map((p) => p.Arn!)
      .find((a) => /AWSSSO_[0-9a-f]{16}_DO_NOT_DELETE$/.test(a))!;
    const trust = JSON.parse(
      decodeURIComponent(listed.Roles!.find((r) => r.RoleName === role!.name)!.AssumeRolePolicyDocument!),
    );
    expect(trust.Statement[0]).toMatchObject({
      Principal: { Federated: provider },
      Action: ["sts:AssumeRoleWithSAML", "sts:TagSession"],
    });
    const gaad = await c.iam.send(
      new GetAccountAuthorizationDetailsCommand({ Filter: ["Role"], MaxItems: 1000 }),
    );
    expect(gaad.RoleDetailList!.find((r) => r.RoleName === role!.name)!.PermissionsBoundary).toEqual({
      PermissionsBoundaryType: "PermissionsBoundaryPolicy",
      PermissionsBoundaryArn: "arn:aws:iam::aws:policy/PowerUserAccess",
    });
    for (const call of [
      c.iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: role!.name, PolicyDocument: "{}" })),
      c.iam.send(
        new PutRolePermissionsBoundaryCommand({
          RoleName: role!.name,
          PermissionsBoundary: "arn:aws:iam::aws:policy/ReadOnlyAccess",
        }),
      ),
    ])
      expect(await err(call)).toMatchObject({
        name: "UnmodifiableEntityException",
        $metadata: { httpStatusCode: 400 },
      });

    expect(() => sim.mutate.deleteIamRole({ accountId: member, roleName: role!.name })).toThrow(
      /protected role/,
    );
    sim.mutate.deleteAccountAssignment(assign(u1!.userId));
    expect(reservedIn(member, "Reserved-Test").map((r) => r.name)).toEqual([role!.name]);
    sim.mutate.deleteAccountAssignment(assign(u2!.userId));
    expect(reservedIn(member, "Reserved-Test")).toEqual([]);
    sim.mutate.createAccountAssignment(assign(u1!.userId));
    const [again] = reservedIn(member, "Reserved-Test");
    expect(again!.name).not.toBe(role!.name);
  });
});

describe("permissions boundaries", () => {
  it("IAM users/roles: Put via API and mutation, served by GetUser/GetRole, refused for unknown policies", async () => {
    const c = await memberClients();
    const iam = sim.exportOrg().accounts.find((a) => a.id === member)!.iam;
    const user = iam.users.find((u) => !u.permissionsBoundary)!;
    const arn = `arn:aws:iam::${member}:policy/deploy-policy`;
    await c.iam.send(
      new PutUserPermissionsBoundaryCommand({ UserName: user.name, PermissionsBoundary: arn }),
    );
    expect((await c.iam.send(new GetUserCommand({ UserName: user.name }))).User!.PermissionsBoundary).toEqual(
      {
        PermissionsBoundaryType: "PermissionsBoundaryPolicy",
        PermissionsBoundaryArn: arn,
      },
    );
    sim.mutate.deletePermissionsBoundary({ accountId: member, principal: "user", name: user.name });
    expect(
      (await c.iam.send(new GetUserCommand({ UserName: user.name }))).User!.PermissionsBoundary,
    ).toBeUndefined();
    sim.mutate.putPermissionsBoundary({
      accountId: member,
      principal: "role",
      name: "app-runtime",
      policyArn: arn,
    });
    expect(
      (await c.iam.send(new GetRoleCommand({ RoleName: "app-runtime" }))).Role!.PermissionsBoundary!
        .PermissionsBoundaryArn,
    ).toBe(arn);
    const missing = await err(
      c.iam.send(
        new PutUserPermissionsBoundaryCommand({
          UserName: user.name,
          PermissionsBoundary: `arn:aws:iam::${member}:policy/nope`,
        }),
      ),
    );
    expect(missing).toMatchObject({ name: "NoSuchEntityException" });
    const malformed = await err(
      c.iam.send(
        new PutUserPermissionsBoundaryCommand({
          UserName: user.name,
          PermissionsBoundary: "arn:aws:iam::1:policy/x",
        }),
      ),
    );
    expect(malformed).toMatchObject({ name: "InvalidInputException" });
    const badName = await err(c.iam.send(new GetUserCommand({ UserName: "no spaces allowed" })));
    expect(badName).toMatchObject({ name: "ValidationError" });
  });

  it("permission sets: Get/Put boundary; none → ResourceNotFoundException", async () => {
    const sso = clients(sim).sso;
    const InstanceArn = sim.instanceArn!;
    const ps = sim.mutate.createPermissionSet({ name: "NoBoundary" });
    const none = await err(
      sso.send(new GetPermissionsBoundaryForPermissionSetCommand({ InstanceArn, PermissionSetArn: ps.arn })),
    );
    expect(none).toMatchObject({ name: "ResourceNotFoundException" });
    await sso.send(
      new PutPermissionsBoundaryToPermissionSetCommand({
        InstanceArn,
        PermissionSetArn: ps.arn,
        PermissionsBoundary: { CustomerManagedPolicyReference: { Name: "deploy-policy", Path: "/" } },
      }),
    );
    const got = await sso.send(
      new GetPermissionsBoundaryForPermissionSetCommand({ InstanceArn, PermissionSetArn: ps.arn }),
    );
    expect(got.PermissionsBoundary).toEqual({
      CustomerManagedPolicyReference: { Name: "deploy-policy", Path: "/" },
    });
    expect(
      sim.exportOrg().identityCenter!.permissionSets.find((p) => p.arn === ps.arn)!.permissionsBoundary,
    ).toEqual({
      customerManagedPolicyReference: { name: "deploy-policy", path: "/" },
    });
    const bad = await err(
      sso.send(
        new DescribePermissionSetCommand({ InstanceArn, PermissionSetArn: "arn:aws:sso:::permissionSet/x" }),
      ),
    );
    expect(bad).toMatchObject({ name: "ValidationException" });
  });
});

describe("Organizations SCPs and RCPs", () => {
  it("FullAWSAccess everywhere; attach/detach via API and mutations; the last SCP stays", async () => {
    const org = clients(sim).org;
    const roots = (await org.send(new ListRootsCommand({}))).Roots!;
    expect(roots[0]!.PolicyTypes).toEqual([{ Type: "SERVICE_CONTROL_POLICY", Status: "ENABLED" }]);
    const scps = (await org.send(new ListPoliciesCommand({ Filter: "SERVICE_CONTROL_POLICY" }))).Policies!;
    expect(scps.find((p) => p.Id === "p-FullAWSAccess")).toMatchObject({
      AwsManaged: true,
      Name: "FullAWSAccess",
    });
    const full = await org.send(new DescribePolicyCommand({ PolicyId: "p-FullAWSAccess" }));
    expect(JSON.parse(full.Policy!.Content!).Statement[0]).toMatchObject({ Effect: "Allow", Action: "*" });
    const targets = (await org.send(new ListTargetsForPolicyCommand({ PolicyId: "p-FullAWSAccess" })))
      .Targets!;
    expect(targets.map((t) => t.Type)).toContain("ROOT");

    const created = sim.mutate.createOrgPolicy({
      name: "DenyAll test",
      content: '{"Version":"2012-10-17","Statement":[]}',
    });
    expect(created.id).toMatch(/^p-[0-9a-z]{10}$/);
    await org.send(new AttachPolicyCommand({ PolicyId: created.id, TargetId: member }));
    const forMember = (
      await org.send(new ListPoliciesForTargetCommand({ TargetId: member, Filter: "SERVICE_CONTROL_POLICY" }))
    ).Policies!;
    expect(forMember.map((p) => p.Id)).toEqual(expect.arrayContaining(["p-FullAWSAccess", created.id]));
    expect(
      await err(org.send(new AttachPolicyCommand({ PolicyId: created.id, TargetId: member }))),
    ).toMatchObject({
      name: "DuplicatePolicyAttachmentException",
    });
    sim.mutate.detachOrgPolicy({ policyId: "p-FullAWSAccess", targetId: member });
    expect(
      await err(org.send(new DetachPolicyCommand({ PolicyId: created.id, TargetId: member }))),
    ).toMatchObject({
      name: "ConstraintViolationException",
    });
    sim.mutate.attachOrgPolicy({ policyId: "p-FullAWSAccess", targetId: member });
    await org.send(new DetachPolicyCommand({ PolicyId: created.id, TargetId: member }));
    expect(sim.exportOrg().policies.find((p) => p.id === created.id)!.targets).toEqual([]);
    expect(await err(org.send(new DescribePolicyCommand({ PolicyId: "bad" })))).toMatchObject({
      name: "InvalidInputException",
    });
    expect(await err(org.send(new DescribeAccountCommand({ AccountId: "12" })))).toMatchObject({
      name: "InvalidInputException",
    });
    const acct = sim.mutate.createAccount({ name: "New", email: "new@example.com" });
    expect(sim.exportOrg().policies.find((p) => p.id === "p-FullAWSAccess")!.targets).toContain(acct.id);
  });
});
