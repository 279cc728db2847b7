import { GetUserCommand, ListRolesCommand, ListUsersCommand } from "@aws-sdk/client-iam";
import { ListAccountsCommand } from "@aws-sdk/client-organizations";
import { ListInstancesCommand } from "@aws-sdk/client-sso-admin";
import { AssumeRoleCommand, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCESS_ROLE, AUDIT_ROLE, EXTERNAL_ID } from "../generate-org.ts";
import { startAwsSim } from "../sim.ts";
import type { AwsSim } from "../sim.ts";
import { clients, waitFor } from "../test-support.ts";

let sim: AwsSim;
let member: string;
beforeAll(async () => {
  sim = await startAwsSim({ preset: "tiny", seed: 3 });
  member = sim
    .exportOrg()
    .accounts.find((a) => a.id !== sim.managementAccountId && a.status === "ACTIVE")!.id;
});
afterAll(async () => {
  await sim.close();
});

async function assume(roleName: string, externalId?: string, durationSeconds?: number) {
  const r = await clients(sim).sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${member}:role/${roleName}`,
      RoleSessionName: "sync@grantline",
      ExternalId: externalId,
      DurationSeconds: durationSeconds,
    }),
  );
  const cr = r.Credentials!;
  return {
    r,
    creds: {
      accessKeyId: cr.AccessKeyId!,
      secretAccessKey: cr.SecretAccessKey!,
      sessionToken: cr.SessionToken!,
    },
  };
}

describe("STS and cross-account", () => {
  it("GetCallerIdentity for the management user", async () => {
    const id = await clients(sim).sts.send(new GetCallerIdentityCommand({}));
    expect(id.Account).toBe(sim.managementAccountId);
    expect(id.Arn).toBe(`arn:aws:iam::${sim.managementAccountId}:user/grantline-sync`);
    expect(id.UserId).toMatch(/^AIDA/);
  });

  it("AssumeRole into a member account; IAM then answers from that account", async () => {
    const { r, creds } = await assume(ACCESS_ROLE);
    expect(creds.accessKeyId).toMatch(/^ASIA[A-Z0-9]{16}$/);
    expect(r.AssumedRoleUser!.Arn).toBe(`arn:aws:sts::${member}:assumed-role/${ACCESS_ROLE}/sync@grantline`);
    expect(r.AssumedRoleUser!.AssumedRoleId).toMatch(/^AROA[A-Z0-9]{17}:sync@grantline$/);
    const exp = r.Credentials!.Expiration!.getTime() - Date.now();
    expect(exp).toBeGreaterThan(3500_000);
    expect(exp).toBeLessThanOrEqual(3600_000);
    const c = clients(sim, creds);
    const id = await c.sts.send(new GetCallerIdentityCommand({}));
    expect(id).toMatchObject({ Account: member, Arn: r.AssumedRoleUser!.Arn });
    const users = await c.iam.send(new ListUsersCommand({}));
    const truth = sim.exportOrg().accounts.find((a) => a.id === member)!.iam;
    expect(users.Users!.map((u) => u.UserName)).toEqual(truth.users.map((u) => u.name));
    const roles = await c.iam.send(new ListRolesCommand({}));
    expect(roles.Roles!.every((x) => x.Arn!.includes(`::${member}:role/`))).toBe(true);
    const err = await c.iam.send(new GetUserCommand({})).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "ValidationError" });
  });

  it("ExternalId: right id works, wrong or missing → AccessDenied (403)", async () => {
    const ok = await assume(AUDIT_ROLE, EXTERNAL_ID, 900);
    expect(ok.r.Credentials!.Expiration!.getTime() - Date.now()).toBeLessThanOrEqual(900_000);
    for (const ext of ["wrong-external-id", undefined]) {
      const e = await assume(AUDIT_ROLE, ext).catch((x: unknown) => x);
      expect(e).toMatchObject({ name: "AccessDenied", $metadata: { httpStatusCode: 403 } });
      expect((e as Error).message).toContain("is not authorized to perform: sts:AssumeRole on resource");
    }
    const missing = await assume("NoSuchRole").catch((x: unknown) => x);
    expect(missing).toMatchObject({ name: "AccessDenied" });
  });

  it("a role whose trust does not name the caller cannot be assumed", async () => {
    const e = await assume("app-runtime").catch((x: unknown) => x);
    expect(e).toMatchObject({ name: "AccessDenied" });
  });

  it("Organizations, SSO Admin from a member account → AccessDeniedException", async () => {
    const { creds } = await assume(ACCESS_ROLE);
    const c = clients(sim, creds);
    const e = await c.org.send(new ListAccountsCommand({})).catch((x: unknown) => x);
    expect(e).toMatchObject({ name: "AccessDeniedException", $metadata: { httpStatusCode: 403 } });
    const e2 = await c.sso.send(new ListInstancesCommand({})).catch((x: unknown) => x);
    expect(e2).toMatchObject({ name: "AccessDeniedException" });
  });

  it("unknown keys → InvalidClientTokenId; expired session → ExpiredToken", async () => {
    const bad = clients(sim, { accessKeyId: "AKIAEXAMPLEEXAMPLE00", secretAccessKey: "x" });
    expect(await bad.iam.send(new ListUsersCommand({})).catch((x: unknown) => x)).toMatchObject({
      name: "InvalidClientTokenId",
      $metadata: { httpStatusCode: 403 },
    });
    sim.setFaults({ sessionDurationOverrideSeconds: 1 });
    const { r, creds } = await assume(ACCESS_ROLE);
    sim.setFaults({ sessionDurationOverrideSeconds: null });
    expect(r.Credentials!.Expiration!.getTime() - Date.now()).toBeLessThanOrEqual(1000);
    const c = clients(sim, creds, 1);
    const err = await waitFor(async () => {
      const e = await c.iam.send(new ListUsersCommand({})).then(
        () => undefined,
        (x: unknown) => x,
      );
      return e;
    });
    expect(err).toMatchObject({ name: "ExpiredToken", $metadata: { httpStatusCode: 400 } });
  });

  it("DurationSeconds: 900 to the role's MaxSessionDuration; role chaining capped at one hour", async () => {
    const long = "long-sessions";
    const chainedFrom = `arn:aws:iam::${member}:role/${ACCESS_ROLE}`;
    sim.mutate.createIamRole({
      accountId: member,
      roleName: long,
      maxSessionDuration: 43200,
      trustPolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: [`arn:aws:iam::${sim.managementAccountId}:root`, chainedFrom] },
            Action: "sts:AssumeRole",
          },
        ],
      }),
    });
    const fromUser = await assume(long, undefined, 7200);
    expect(fromUser.r.Credentials!.Expiration!.getTime() - Date.now()).toBeGreaterThan(7100_000);
    const tooShort = await assume(long, undefined, 899).catch((x: unknown) => x);
    expect(tooShort).toMatchObject({ name: "ValidationError", $metadata: { httpStatusCode: 400 } });
    expect((tooShort as Error).message).toContain("greater than or equal to 900");
    const overRole = await assume(ACCESS_ROLE, undefined, 7200).catch((x: unknown) => x);
    expect(overRole).toMatchObject({ name: "ValidationError" });
    expect((overRole as Error).message).toBe(
      "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    );

    const { creds } = await assume(ACCESS_ROLE);
    const chained = clients(sim, creds).sts;
    const chain = (d?: number) =>
      chained.send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${member}:role/${long}`,
          RoleSessionName: "chained",
          DurationSeconds: d,
        }),
      );
    const refused = await chain(3601).catch((x: unknown) => x);
    expect(refused).toMatchObject({ name: "ValidationError", $metadata: { httpStatusCode: 400 } });
    expect((refused as Error).message).toBe(
      "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
    );
    const hour = await chain(3600);
    expect(hour.Credentials!.Expiration!.getTime() - Date.now()).toBeLessThanOrEqual(3600_000);
    expect((await chain()).AssumedRoleUser!.Arn).toBe(`arn:aws:sts::${member}:assumed-role/${long}/chained`);
  });
});
