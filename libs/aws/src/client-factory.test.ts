import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ListUsersCommand } from "@aws-sdk/client-iam";
import { SourceConfig } from "@grantline/config";
import { startAwsSim, type AwsSim } from "@grantline/aws-sim";
import { uniqueName } from "@grantline/testing";
import { createClientFactory } from "./client-factory.ts";

let sim: AwsSim;
beforeAll(async () => {
  sim = await startAwsSim({ preset: "small", seed: 2 });
});
afterAll(async () => {
  await sim?.close();
});

describe("createClientFactory", () => {
  it("keeps the clients of only the most recently used member accounts, and every account's credentials", async () => {
    const org = sim.exportOrg();
    const members = org.accounts
      .filter((a) => a.status === "ACTIVE" && a.id !== org.organization.managementAccountId)
      .map((a) => a.id);
    expect(members.length).toBeGreaterThanOrEqual(3);
    const [a, b, c] = members as [string, string, string];
    const source = SourceConfig.parse({
      id: uniqueName("src"),
      endpoint: sim.url,
      staticCredentials: sim.managementCredentials,
      iam: { crossAccount: true },
    });
    const assumed: string[] = [];
    const factory = createClientFactory({
      maxAttempts: 1,
      callTimeoutMs: 5_000,
      maxAccounts: 2,
      stsCall: async (_s, operation, call) => {
        assumed.push(operation);
        return call();
      },
    });
    const listUsers = (account: string) =>
      factory.client(source, "iam", account).send(new ListUsersCommand({}), {});
    try {
      await listUsers(a);
      await listUsers(b);
      await listUsers(a); // a is the most recent again: b is the one to go
      await listUsers(c);
      expect(assumed).toEqual(["AssumeRole", "AssumeRole", "AssumeRole"]);
      await listUsers(a); // kept
      expect(assumed).toHaveLength(3);
      const evicted = factory.client(source, "iam", b);
      await listUsers(b); // its clients were dropped, its credentials were not: no second AssumeRole
      expect(assumed).toHaveLength(3);
      // Round robin over more accounts than the cache holds (CloudTrail feeds): one AssumeRole per account.
      for (let round = 0; round < 3; round++) for (const m of members) await listUsers(m);
      expect(assumed).toHaveLength(members.length);
      // The same client object while an account stays in the cache, a new one after it left.
      expect(factory.client(source, "iam", b)).toBe(factory.client(source, "iam", b));
      expect(evicted).not.toBe(factory.client(source, "iam", c));
      // Credentials rejected as expired: dropped for every account, so the next call assumes again.
      factory.invalidate(source.id);
      await listUsers(a);
      expect(assumed).toHaveLength(members.length + 1);
    } finally {
      factory.close();
    }
  });
});
