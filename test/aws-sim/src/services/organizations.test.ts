import {
  DescribeAccountCommand,
  DescribeOrganizationCommand,
  ListParentsCommand,
  ListRootsCommand,
  paginateListAccounts,
  paginateListOrganizationalUnitsForParent,
  ListAccountsCommand,
} from "@aws-sdk/client-organizations";
import { LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsSim } from "../sim.ts";
import type { AwsSim } from "../sim.ts";
import { clients, collect } from "../test-support.ts";

let sim: AwsSim;
beforeAll(async () => {
  sim = await startAwsSim({ preset: "medium", seed: 5 });
});
afterAll(async () => {
  await sim.close();
});

describe("Organizations conformance", () => {
  it("DescribeOrganization", async () => {
    const o = (await clients(sim).org.send(new DescribeOrganizationCommand({}))).Organization!;
    const truth = sim.exportOrg().organization;
    expect(o).toMatchObject({ Id: truth.id, MasterAccountId: truth.managementAccountId, FeatureSet: "ALL" });
    expect(o.Arn).toBe(`arn:aws:organizations::${truth.managementAccountId}:organization/${truth.id}`);
  });

  it("ListAccounts pages at most 20 and the last page has no token", async () => {
    const { items, pages } = await collect(
      paginateListAccounts({ client: clients(sim).org }, {}),
      (p) => p.Accounts,
    );
    const truth = sim.exportOrg().accounts;
    expect(items.map((a) => a.Id)).toEqual(truth.map((a) => a.id));
    expect(pages).toBe(5);
    expect(items.filter((a) => a.Status === "SUSPENDED").length).toBeGreaterThan(0);
    expect(items[1]!.JoinedTimestamp).toBeInstanceOf(Date);
    const e = await clients(sim)
      .org.send(new ListAccountsCommand({ MaxResults: 21 }))
      .catch((x: unknown) => x);
    expect(e).toMatchObject({ name: "InvalidInputException", $metadata: { httpStatusCode: 400 } });
  });

  it("DescribeAccount, ListRoots, OUs and ListParents", async () => {
    const c = clients(sim).org;
    const doc = sim.exportOrg();
    const a = doc.accounts[3]!;
    expect((await c.send(new DescribeAccountCommand({ AccountId: a.id }))).Account).toMatchObject({
      Id: a.id,
      Name: a.name,
      Email: a.email,
      Status: a.status,
    });
    const e = await c
      .send(new DescribeAccountCommand({ AccountId: "000000000000" }))
      .catch((x: unknown) => x);
    expect(e).toMatchObject({ name: "AccountNotFoundException", $metadata: { httpStatusCode: 404 } });
    const roots = (await c.send(new ListRootsCommand({}))).Roots!;
    expect(roots.map((r) => r.Id)).toEqual(doc.roots.map((r) => r.id));
    const ous = await collect(
      paginateListOrganizationalUnitsForParent({ client: c, pageSize: 1 }, { ParentId: roots[0]!.Id! }),
      (p) => p.OrganizationalUnits,
    );
    expect(ous.items.map((o) => o.Id)).toEqual(
      doc.organizationalUnits.filter((o) => o.parentId === roots[0]!.Id).map((o) => o.id),
    );
    expect((await c.send(new ListParentsCommand({ ChildId: a.id }))).Parents).toEqual([
      { Id: a.parentId, Type: a.parentId.startsWith("r-") ? "ROOT" : "ORGANIZATIONAL_UNIT" },
    ]);
    const e2 = await c.send(new ListParentsCommand({ ChildId: "111111111111" })).catch((x: unknown) => x);
    expect(e2).toMatchObject({ name: "ChildNotFoundException" });
    const e3 = await c.send(new ListRootsCommand({ NextToken: "garbage" })).catch((x: unknown) => x);
    expect(e3).toMatchObject({ name: "InvalidInputException" });
  });

  it("accounts answer Status and State; setAccountStatus suspends or closes", async () => {
    const c = clients(sim).org;
    const { items } = await collect(paginateListAccounts({ client: c }, {}), (p) => p.Accounts);
    expect(items.every((a) => a.State === a.Status)).toBe(true);
    const suspended = items.find((a) => a.Status === "SUSPENDED")!;
    expect(suspended.State).toBe("SUSPENDED");
    const acct = items.find((a) => a.Status === "ACTIVE" && a.Id !== sim.managementAccountId)!.Id!;
    sim.mutate.setAccountStatus({ accountId: acct, status: "PENDING_CLOSURE" });
    expect((await c.send(new DescribeAccountCommand({ AccountId: acct }))).Account).toMatchObject({
      Status: "PENDING_CLOSURE",
      State: "PENDING_CLOSURE",
    });
    expect(sim.exportOrg().accounts.find((a) => a.id === acct)!.status).toBe("PENDING_CLOSURE");
    sim.mutate.setAccountStatus({ accountId: acct, status: "SUSPENDED" });
    expect((await c.send(new DescribeAccountCommand({ AccountId: acct }))).Account!.State).toBe("SUSPENDED");
    sim.mutate.setAccountStatus({ accountId: acct, status: "ACTIVE" });
    expect((await c.send(new DescribeAccountCommand({ AccountId: acct }))).Account!.State).toBe("ACTIVE");
    const events = await clients(sim).trail.send(
      new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: acct }] }),
    );
    expect(events.Events!.map((e) => e.EventName)).toEqual(["UpdateAccount", "CloseAccount", "CloseAccount"]);
  });
});
