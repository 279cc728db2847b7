import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCESS_ROLE, startAwsSim, type AwsSim } from "@grantline/aws-sim";
import { accessOfPrincipal, accessToAccount, explainAccess, roleAssumers } from "@grantline/db";
import { fingerprint } from "@grantline/policy";
import {
  ADMIN_PS,
  ANN,
  BEN,
  CLOSED,
  exactAccessOrg,
  GITHUB_OIDC,
  OPS,
  OUTSIDER,
  PROD,
  policyArn,
  RESERVED_ROLE,
  role,
  SAML_PROVIDER,
  SSO_PROVIDER,
  TOOLS,
  user,
} from "./exact-access-org.ts";
import { diffRows, expectedIamRows, expectedRows, mergeRows } from "./ground-truth.ts";
import {
  createPipeline,
  liveRows,
  readEvents,
  simSource,
  syncAndWait,
  type Pipeline,
} from "./pipeline-harness.ts";

/*
 * Issue 12's exact-access cases on an organization written by hand (exact-access-org.ts). Every expected answer
 * below was worked out by hand from that document and AWS's rules (docs/access-semantics.md); none is computed
 * by the code under test.
 */

let sim: AwsSim;
let p: Pipeline;
let firstRun: string;

beforeAll(async () => {
  sim = await startAwsSim({ org: exactAccessOrg() });
  p = await createPipeline({
    sources: {
      sources: [
        simSource("exact", sim, {
          iam: { enabled: true, crossAccount: true, roleName: ACCESS_ROLE, onlyAttachedPolicies: true },
        }),
      ],
    },
  });
  p.startAll();
  firstRun = await syncAndWait(p, "exact");
}, 240_000);
afterAll(async () => {
  await p?.close();
  await sim?.close();
});

/** `type/id`, with `~derived` when the path starts with a derived grant. */
const who = (rows: Array<{ principal_type: string; principal_id: string; derived_from: string | null }>) =>
  [
    ...new Set(
      rows.map((r) => `${r.principal_type}/${r.principal_id}${r.derived_from ? `~${r.derived_from}` : ""}`),
    ),
  ].sort();

describe("exact access on a hand-written organization", () => {
  it("syncs to its ground truth (rows read from AWS)", async () => {
    const org = sim.exportOrg();
    expect(diffRows(mergeRows(expectedRows(org), expectedIamRows(org)), await liveRows(p, "exact"))).toEqual(
      [],
    );
  });

  it("an explicit Deny in a trust policy removes the principal its Allow names", async () => {
    const r = await roleAssumers(p.db, role(PROD, "DenyTest"));
    expect(who(r.rows)).toEqual([`iam_user/${user(TOOLS, "alice")}`]);
  });

  it("SAML and OIDC roles show their federated principals, conditional, with the conditions on the grant", async () => {
    const saml = await roleAssumers(p.db, role(PROD, "SamlRole"));
    expect(who(saml.rows)).toEqual([`federated/${SAML_PROVIDER}`]);
    expect(saml.rows[0]?.conditional).toBe(true);
    expect(saml.rows[0]?.grants[0]?.attrs).toMatchObject({
      actions: ["sts:AssumeRoleWithSAML"],
      conditional: true,
      conditions: { samlAud: ["https://signin.aws.amazon.com/saml"] },
    });
    const oidc = await roleAssumers(p.db, role(PROD, "GithubDeploy"));
    expect(who(oidc.rows)).toEqual([`federated/${GITHUB_OIDC}`]);
    expect(oidc.rows[0]?.grants[0]?.attrs).toMatchObject({
      actions: ["sts:AssumeRoleWithWebIdentity"],
      conditional: true,
    });
    const vendor = await roleAssumers(p.db, role(PROD, "Vendor"));
    expect(who(vendor.rows)).toEqual([`aws_account/${OUTSIDER}`]);
    // The external id is shown as its fingerprint (issue 14): in the rows, the CLI's answers and the events.
    expect(vendor.rows[0]?.grants[0]?.attrs).toMatchObject({
      conditions: { externalId: [fingerprint("vendor-123")] },
    });
    expect(JSON.stringify(await readEvents(p))).not.toContain("vendor-123");
  });

  it("an account-root trust resolves to exactly the principals whose identity policies allow it", async () => {
    const r = await roleAssumers(p.db, role(PROD, "TrustsTools"));
    expect(who(r.rows)).toEqual(
      [
        `aws_account/${TOOLS}`,
        // alice: inline Allow on role/*; carol: her group's managed policy on role/Trusts*; ci: a role's inline.
        `iam_user/${user(TOOLS, "alice")}~account-trust`,
        `iam_user/${user(TOOLS, "carol")}~account-trust`,
        `iam_role/${role(TOOLS, "ci")}~account-trust`,
        // Whoever can assume ci reaches what ci can: the CodeBuild service, through ci.
        "aws_service/codebuild.amazonaws.com~account-trust",
      ].sort(),
    );
    // Not bob (no identity policy), dave (boundary allows only S3), erin (explicit Deny on this role).
  });

  it("Identity Center users reach the reserved role of their assignment, through their group", async () => {
    const r = await roleAssumers(p.db, RESERVED_ROLE);
    expect(who(r.rows)).toEqual(
      [
        `federated/${SSO_PROVIDER}`,
        `sso_group/${OPS}~identity-center`,
        `sso_user/${ANN}~identity-center`,
      ].sort(),
    );
    // Ben is in the group but DISABLED: hidden by default, shown (inactive) on request.
    expect(r.hiddenInactive).toBe(1);
    const all = await roleAssumers(p.db, RESERVED_ROLE, { includeInactive: true });
    const ben = all.rows.filter((x) => x.principal_id === BEN);
    expect(ben.map((x) => x.active)).toEqual([false]);
    // And from the user's side: Ann's path to the role in Prod is group membership → assignment → role.
    const explained = await explainAccess(p.db, [ANN], PROD);
    const toRole = explained.rows.find((x) => x.resource_id === RESERVED_ROLE);
    expect(toRole?.path).toEqual([`sso_group/${OPS}`, `sso_user/${ANN}`]);
    expect(toRole?.grants[0]?.attrs).toMatchObject({
      derivedFrom: "identity-center",
      permissionSetArn: ADMIN_PS,
    });
  });

  it("suspended accounts and disabled users are excluded from answers by default", async () => {
    const prod = await accessToAccount(p.db, PROD);
    expect(who(prod.rows)).toEqual([`sso_group/${OPS}`, `sso_user/${ANN}`]);
    expect(prod.hiddenInactive).toBe(1); // Ben
    const ann = await accessOfPrincipal(p.db, [ANN]);
    expect(ann.rows.some((x) => x.resource_id === CLOSED)).toBe(false);
    const annAll = await accessOfPrincipal(p.db, [ANN], { includeInactive: true });
    const closed = annAll.rows.filter((x) => x.resource_type === "account" && x.resource_id === CLOSED);
    expect(closed.map((x) => x.active)).toEqual([false]);
  });

  it("boundaries, SCPs with their targets and unattached customer policies are synced", async () => {
    const attrs = async (type: string, id: string) =>
      (
        await p.db
          .selectFrom("resources")
          .select("attrs")
          .where("source_id", "=", "exact")
          .where("type", "=", type)
          .where("id", "=", id)
          .executeTakeFirstOrThrow()
      ).attrs;
    expect(await attrs("iam_user", user(TOOLS, "dave"))).toMatchObject({
      permissionsBoundary: policyArn(TOOLS, "S3Only"),
    });
    expect(await attrs("iam_policy", policyArn(TOOLS, "Unused"))).toMatchObject({ awsManaged: false });
    expect(await attrs("org_policy", "p-denyleave01")).toMatchObject({
      policyType: "SERVICE_CONTROL_POLICY",
    });
    const targets = await p.db
      .selectFrom("grants")
      .select(["principal_type", "principal_id"])
      .where("source_id", "=", "exact")
      .where("entitlement_id", "=", "org_policy:p-denyleave01:attached")
      .where("revoked_at", "is", null)
      .execute();
    expect(targets).toEqual([{ principal_type: "organizational_unit", principal_id: "ou-ex01-prod0001" }]);
  });

  it("changing a trust policy, a boundary, an SCP attachment and a policy's last attachment emits exactly the expected events; run.completed counts them", async () => {
    const first = await readEvents(p, firstRun);
    expect(first.every((e) => e.grantlineinitialload)).toBe(true);

    sim.mutate.updateAssumeRolePolicy({
      accountId: PROD,
      roleName: "DenyTest",
      document: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: [user(TOOLS, "alice"), user(TOOLS, "bob")] },
            Action: "sts:AssumeRole",
          },
        ],
      }),
    });
    sim.mutate.putPermissionsBoundary({
      accountId: TOOLS,
      principal: "user",
      name: "alice",
      policyArn: policyArn(TOOLS, "S3Only"),
    });
    sim.mutate.detachOrgPolicy({ policyId: "p-denyleave01", targetId: "ou-ex01-prod0001" });
    sim.mutate.detachPolicy({
      accountId: TOOLS,
      principalType: "user",
      principalName: "carol",
      policyArn: policyArn(TOOLS, "ReadOnlyCustom"),
    });
    const runId = await syncAndWait(p, "exact");
    const events = await readEvents(p, runId);
    const keys = events
      .filter((e) => !e.type.startsWith("dev.grantline.run."))
      .map((e) => {
        const d = e.data;
        const what = e.type.replace("dev.grantline.", "");
        return what.startsWith("grant.")
          ? `${what} ${String(d.grantId)}`
          : `${what} ${String(d.resourceType)}/${String(d.resourceId)}`;
      })
      .sort();
    const trustsTools = `iam_role:${role(PROD, "TrustsTools")}:assignment`;
    expect(keys).toEqual(
      [
        // The Deny is gone: bob may assume DenyTest; the role's trust policy changed.
        `grant.created iam_role:${role(PROD, "DenyTest")}:assignment:iam_user:${user(TOOLS, "bob")}`,
        `resource.updated iam_role/${role(PROD, "DenyTest")}`,
        // alice's new boundary allows only S3: she no longer reaches TrustsTools through the account trust.
        `grant.revoked ${trustsTools}:iam_user:${user(TOOLS, "alice")}#account-trust`,
        `resource.updated iam_user/${user(TOOLS, "alice")}`,
        // The SCP left the OU: one revoke, the policy stays.
        "grant.revoked org_policy:p-denyleave01:attached:organizational_unit:ou-ex01-prod0001",
        // ReadOnlyCustom's last attachment went: a revoke, no resource.deleted (the policy still exists).
        `grant.revoked iam_policy:${policyArn(TOOLS, "ReadOnlyCustom")}:attached:iam_user:${user(TOOLS, "carol")}`,
      ].sort(),
    );
    const completed = events.find((e) => e.type === "dev.grantline.run.completed");
    expect(completed?.data.stats).toMatchObject({
      grantsCreated: 1,
      grantsRevoked: 3,
      resourcesCreated: 0,
      resourcesUpdated: 2,
      resourcesDeleted: 0,
    });
  });
});
