import { ListRolesCommand, ListUsersCommand as IamListUsers } from "@aws-sdk/client-iam";
import { ListGroupsCommand, ListUsersCommand } from "@aws-sdk/client-identitystore";
import { ListAccountsCommand } from "@aws-sdk/client-organizations";
import { ListPermissionSetsCommand } from "@aws-sdk/client-sso-admin";
import { AssumeRoleCommand } from "@aws-sdk/client-sts";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ACCESS_ROLE } from "./generate-org.ts";
import { startAwsSim } from "./sim.ts";
import type { AwsSim } from "./sim.ts";
import { clients } from "./test-support.ts";

let sim: AwsSim;
beforeAll(async () => {
  sim = await startAwsSim({ preset: "tiny", seed: 9 });
});
afterAll(async () => {
  await sim.close();
});
afterEach(() => {
  sim.setFaults({ rateLimits: false, throttleFirstAttempt: false, errorRate: 0, latency: null });
  sim.resetCounters();
});

describe("throttling, faults and accounting", () => {
  it("under the limit: no throttling; over it: Throttling errors that the SDK retries", async () => {
    sim.setFaults({ rateLimits: { iam: 5, scale: 1 } });
    const c = clients(sim);
    for (let i = 0; i < 4; i++)
      expect((await c.iam.send(new IamListUsers({})))["$metadata"].attempts).toBe(1);
    expect(sim.counters().totals.throttled).toBe(0);
    sim.resetCounters();
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        c.iam.send(new IamListUsers({})).then(
          (r) => r.$metadata.attempts ?? 1,
          () => -1,
        ),
      ),
    );
    const ops = sim.counters().operations["iam:ListUsers"]!;
    expect(ops.throttled).toBeGreaterThan(0);
    expect(results.some((a) => a > 1)).toBe(true);
    const tl = sim.timeline();
    const scope = Object.keys(tl).find((k) => k.startsWith("iam:"))!;
    expect(tl[scope]!.reduce((s, p) => s + p.throttled, 0)).toBe(ops.throttled);
  });

  it("Identity Center is one 20 TPS bucket shared by all operations (scaled)", async () => {
    sim.setFaults({ rateLimits: { ssoAdmin: 20, scale: 0.1 } }); // 2 req/s, burst 2
    const c = clients(sim, sim.managementCredentials, 1);
    const InstanceArn = sim.instanceArn!;
    await c.sso.send(new ListPermissionSetsCommand({ InstanceArn }));
    await c.sso.send(new ListPermissionSetsCommand({ InstanceArn }));
    const e = await c.sso.send(new ListPermissionSetsCommand({ InstanceArn })).catch((x: unknown) => x);
    expect(e).toMatchObject({ name: "ThrottlingException", $metadata: { httpStatusCode: 400 } });
  });

  it("quota scopes: IAM per account per operation, Identity Store per operation", async () => {
    const member = sim
      .exportOrg()
      .accounts.find((a) => a.id !== sim.managementAccountId && a.status === "ACTIVE")!.id;
    const assumed = await clients(sim).sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${member}:role/${ACCESS_ROLE}`,
        RoleSessionName: "scope-test",
      }),
    );
    const cr = assumed.Credentials!;
    const memberIam = clients(
      sim,
      { accessKeyId: cr.AccessKeyId!, secretAccessKey: cr.SecretAccessKey!, sessionToken: cr.SessionToken! },
      1,
    ).iam;
    sim.setFaults({ rateLimits: { iam: 2, identityStore: 2, scale: 1 } });
    const c = clients(sim, sim.managementCredentials, 1);
    const err = (p: Promise<unknown>) =>
      p.then(
        () => "ok",
        (e: Error) => e.name,
      );
    expect([
      await err(c.iam.send(new IamListUsers({}))),
      await err(c.iam.send(new IamListUsers({}))),
    ]).toEqual(["ok", "ok"]);
    expect(await err(c.iam.send(new IamListUsers({})))).toBe("Throttling");
    expect(await err(c.iam.send(new ListRolesCommand({})))).toBe("ok");
    expect(await err(memberIam.send(new IamListUsers({})))).toBe("ok");
    const IdentityStoreId = sim.identityStoreId!;
    await err(c.ids.send(new ListUsersCommand({ IdentityStoreId })));
    await err(c.ids.send(new ListUsersCommand({ IdentityStoreId })));
    expect(await err(c.ids.send(new ListUsersCommand({ IdentityStoreId })))).toBe("ThrottlingException");
    expect(await err(c.ids.send(new ListGroupsCommand({ IdentityStoreId })))).toBe("ok");
    expect(Object.keys(sim.timeline())).toEqual(
      expect.arrayContaining([
        `iam:${sim.managementAccountId}:ListUsers`,
        `iam:${member}:ListUsers`,
        `identitystore:${IdentityStoreId}:ListUsers`,
      ]),
    );
  });

  it("one-shot mode throttles only the first attempt of each request, per service error shape", async () => {
    sim.setFaults({ throttleFirstAttempt: true });
    const c = clients(sim);
    const r1 = await c.iam.send(new IamListUsers({}));
    expect(r1.$metadata.attempts).toBe(2);
    const r2 = await c.ids.send(new ListUsersCommand({ IdentityStoreId: sim.identityStoreId! }));
    expect(r2.$metadata.attempts).toBe(2);
    const r3 = await c.org.send(new ListAccountsCommand({}));
    expect(r3.$metadata.attempts).toBe(2);
    const one = clients(sim, sim.managementCredentials, 1);
    expect(await one.org.send(new ListAccountsCommand({})).catch((x: unknown) => x)).toMatchObject({
      name: "TooManyRequestsException",
    });
    expect(await one.iam.send(new IamListUsers({})).catch((x: unknown) => x)).toMatchObject({
      name: "Throttling",
      $metadata: { httpStatusCode: 400 },
    });
    sim.setFaults({ throttleFirstAttempt: ["sso:ListPermissionSets"] });
    expect((await c.iam.send(new IamListUsers({}))).$metadata.attempts).toBe(1);
    const counters = sim.counters();
    expect(counters.operations["iam:ListUsers"]!.throttled).toBe(2);
  });

  it("injected 5xx errors are retried; latency is applied", async () => {
    sim.setFaults({ errorRate: 1 });
    const one = clients(sim, sim.managementCredentials, 1);
    const e = (await one.iam.send(new IamListUsers({})).catch((x: unknown) => x)) as {
      $metadata: { httpStatusCode: number };
    };
    expect([500, 503]).toContain(e.$metadata.httpStatusCode);
    const e2 = (await one.sso
      .send(new ListPermissionSetsCommand({ InstanceArn: sim.instanceArn! }))
      .catch((x: unknown) => x)) as { $metadata: { httpStatusCode: number } };
    expect([500, 503]).toContain(e2.$metadata.httpStatusCode);
    expect(sim.counters().totals.errors).toBe(2);
    sim.setFaults({ errorRate: 0, latency: { minMs: 60, maxMs: 80 } });
    const t0 = Date.now();
    await one.iam.send(new IamListUsers({}));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55);
  });
});
