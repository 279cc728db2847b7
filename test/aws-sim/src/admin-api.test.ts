import { ListUsersCommand } from "@aws-sdk/client-identitystore";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OrgDocument } from "./org-document.ts";
import { startAwsSim } from "./sim.ts";
import type { AwsSim } from "./sim.ts";
import { clients } from "./test-support.ts";

let sim: AwsSim;
beforeAll(async () => {
  sim = await startAwsSim({ preset: "tiny", seed: 12 });
});
afterAll(async () => {
  await sim.close();
});
async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const r = await fetch(`${sim.url}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
  return { status: r.status, json: await r.json() };
}

describe("admin API /_sim/", () => {
  it("exports the org, mutates through HTTP, and the AWS APIs see the change", async () => {
    const before = (await call("GET", "/_sim/org")).json as OrgDocument;
    expect(before).toEqual(JSON.parse(JSON.stringify(sim.exportOrg())));
    const u = await call("POST", "/_sim/mutate/createIdentityStoreUser", {
      userName: "zoë+new@example.com",
      displayName: "Zoë New",
      givenName: "Zoë",
      familyName: "New",
    });
    expect(u.status).toBe(200);
    const userId = (u.json as { userId: string }).userId;
    const res = await clients(sim).ids.send(
      new ListUsersCommand({
        IdentityStoreId: sim.identityStoreId!,
        Filters: [{ AttributePath: "UserName", AttributeValue: "zoë+new@example.com" }],
      }),
    );
    expect(res.Users!.map((x) => x.UserId)).toEqual([userId]);
    const g = sim.exportOrg().identityCenter!.groups[0]!;
    expect(
      (await call("POST", "/_sim/mutate/addGroupMembership", { groupId: g.groupId, userId })).status,
    ).toBe(200);
    const ps = sim.exportOrg().identityCenter!.permissionSets[0]!;
    const acct = sim.exportOrg().accounts[1]!.id;
    expect(
      (
        await call("POST", "/_sim/mutate/createAccountAssignment", {
          accountId: acct,
          permissionSetArn: ps.arn,
          principalType: "USER",
          principalId: userId,
        })
      ).status,
    ).toBe(200);
    const after = sim.exportOrg().identityCenter!;
    expect(after.assignments).toContainEqual({
      accountId: acct,
      permissionSetArn: ps.arn,
      principalType: "USER",
      principalId: userId,
    });
    expect(after.permissionSets.find((p) => p.arn === ps.arn)!.provisionedTo).toContain(acct);
    const dup = await call("POST", "/_sim/mutate/addGroupMembership", { groupId: g.groupId, userId });
    expect(dup).toMatchObject({ status: 409, json: { error: "ConflictException" } });
    expect((await call("POST", "/_sim/mutate/nope", {})).status).toBe(404);
    expect(
      await call("POST", "/_sim/mutate/createIamUser", { accountId: sim.managementAccountId }),
    ).toMatchObject({
      status: 400,
      json: { message: "Missing string member(s): userName" },
    });
  });

  it("IAM and account mutations", async () => {
    const acct = sim.managementAccountId;
    await call("POST", "/_sim/mutate/createIamRole", {
      accountId: acct,
      roleName: "r1",
      trustPolicy: '{"Version":"2012-10-17","Statement":[]}',
    });
    await call("POST", "/_sim/mutate/attachPolicy", {
      accountId: acct,
      principalType: "role",
      principalName: "r1",
      policyArn: "arn:aws:iam::aws:policy/ReadOnlyAccess",
    });
    const k = (await call("POST", "/_sim/mutate/createAccessKey", { accountId: acct, userName: "bob.ops" }))
      .json as { id: string };
    expect(k.id).toMatch(/^AKIA/);
    const a = (
      await call("POST", "/_sim/mutate/createAccount", { name: "New Acct", email: "new@example.com" })
    ).json as { id: string };
    const doc = sim.exportOrg();
    expect(doc.accounts.find((x) => x.id === a.id)?.iam.roles.map((r) => r.name)).toEqual([
      "OrganizationAccountAccessRole",
    ]);
    expect(
      doc.accounts.find((x) => x.id === acct)!.iam.roles.find((r) => r.name === "r1")!.attachedPolicies,
    ).toEqual(["arn:aws:iam::aws:policy/ReadOnlyAccess"]);
  });

  it("faults, counters and timeline over HTTP", async () => {
    const f = await call("POST", "/_sim/faults", { rateLimits: { iam: 7 }, latency: { minMs: 0, maxMs: 1 } });
    expect(f.json).toMatchObject({ rateLimits: { enabled: true, iam: 7 }, latency: { minMs: 0, maxMs: 1 } });
    await call("POST", "/_sim/faults", { rateLimits: false, latency: null });
    expect(
      ((await call("GET", "/_sim/faults")).json as { rateLimits: { enabled: boolean } }).rateLimits.enabled,
    ).toBe(false);
    await call("POST", "/_sim/counters/reset");
    await clients(sim).ids.send(new ListUsersCommand({ IdentityStoreId: sim.identityStoreId! }));
    expect((await call("GET", "/_sim/counters")).json).toMatchObject({
      operations: { "identitystore:ListUsers": { calls: 1 } },
    });
    expect(
      Object.keys((await call("GET", "/_sim/timeline")).json as object).some((k) =>
        k.startsWith("identitystore:"),
      ),
    ).toBe(true);
    await call("POST", "/_sim/counters/reset");
    expect((await call("GET", "/_sim/counters")).json).toMatchObject({ totals: { calls: 0 } });
    expect((await call("POST", "/_sim/faults", { errorRate: 2 })).status).toBe(400);
  });
});
