import { describe, expect, it } from "vitest";
import { LIST_DETAILS, listWithDetails, type DetailCall } from "./list-with-details.ts";

/** An AWS service error as the SDK throws it (`name` is the error code). */
const awsError = (name: string) => Object.assign(new Error(`${name}: no`), { name, $fault: "client" });

/** IAM answering from a table: a key's last use, or the error its GetAccessKeyLastUsed gets. */
function iam(keys: Record<string, Record<string, unknown> | Error>): DetailCall & { made: string[] } {
  const made: string[] = [];
  const call = async (op: string, input: Record<string, unknown>) => {
    made.push(op === "ListAccessKeys" ? op : `${op} ${String(input.AccessKeyId)}`);
    if (op === "ListAccessKeys")
      return {
        AccessKeyMetadata: Object.keys(keys).map((id) => ({
          AccessKeyId: id,
          UserName: "u",
          Status: "Active",
        })),
        IsTruncated: false,
      };
    const k = keys[String(input.AccessKeyId)];
    if (k instanceof Error) throw k;
    return { UserName: "u", AccessKeyLastUsed: k };
  };
  return Object.assign(call, { made });
}

const listAccessKeys = (input: Record<string, unknown>, call: DetailCall) =>
  listWithDetails(LIST_DETAILS.ListAccessKeys, input, call);

describe("listWithDetails: access keys", () => {
  it("attaches each key's last use to the listed keys: one call for the list, one per key", async () => {
    const call = iam({
      AKIA1: { LastUsedDate: "2026-11-30T10:00:00.000Z", ServiceName: "s3", Region: "us-east-1" },
      AKIA2: { ServiceName: "N/A", Region: "N/A" },
    });
    const { page, awsCalls } = await listAccessKeys({ UserName: "u" }, call);
    expect(page).toEqual({
      AccessKeyMetadata: [
        {
          AccessKeyId: "AKIA1",
          UserName: "u",
          Status: "Active",
          AccessKeyLastUsed: {
            LastUsedDate: "2026-11-30T10:00:00.000Z",
            ServiceName: "s3",
            Region: "us-east-1",
          },
        },
        {
          AccessKeyId: "AKIA2",
          UserName: "u",
          Status: "Active",
          AccessKeyLastUsed: { ServiceName: "N/A", Region: "N/A" },
        },
      ],
      IsTruncated: false,
    });
    expect(awsCalls).toBe(3);
    expect(call.made.sort()).toEqual([
      "GetAccessKeyLastUsed AKIA1",
      "GetAccessKeyLastUsed AKIA2",
      "ListAccessKeys",
    ]);
  });

  it("leaves a key it may not read, or that vanished since the list, without its last use", async () => {
    const { page, awsCalls } = await listAccessKeys(
      {},
      iam({
        AKIA1: awsError("AccessDenied"),
        AKIA2: awsError("NoSuchEntity"),
        AKIA3: { ServiceName: "N/A", Region: "N/A" },
      }),
    );
    const keys = page.AccessKeyMetadata as Array<Record<string, unknown>>;
    expect(keys.map((k) => [k.AccessKeyId, "AccessKeyLastUsed" in k])).toEqual([
      ["AKIA1", false],
      ["AKIA2", false],
      ["AKIA3", true],
    ]);
    expect(awsCalls).toBe(4);
  });

  it("fails the page on a throttle or an outage, as a call of its own would", async () => {
    const throttled = awsError("Throttling");
    await expect(listAccessKeys({}, iam({ AKIA1: { ServiceName: "N/A" }, AKIA2: throttled }))).rejects.toBe(
      throttled,
    );
  });

  it("makes no further call for a user without keys", async () => {
    const call = iam({});
    expect(await listAccessKeys({}, call)).toEqual({
      page: { AccessKeyMetadata: [], IsTruncated: false },
      awsCalls: 1,
    });
    expect(call.made).toEqual(["ListAccessKeys"]);
  });
});

describe("listWithDetails: accounts", () => {
  it("attaches each listed account's parents; an account gone since the list is left without", async () => {
    const made: Array<[string, Record<string, unknown>]> = [];
    const call: DetailCall = async (op, input) => {
      made.push([op, input]);
      if (op === "ListAccounts")
        return { Accounts: [{ Id: "111111111111" }, { Id: "222222222222" }], NextToken: "t2" };
      if (input.ChildId === "222222222222") throw awsError("ChildNotFoundException");
      return { Parents: [{ Id: "ou-ab12-cdef3456", Type: "ORGANIZATIONAL_UNIT" }] };
    };
    const { page, awsCalls } = await listWithDetails(LIST_DETAILS.ListAccounts, { MaxResults: 20 }, call);
    expect(page).toEqual({
      Accounts: [
        { Id: "111111111111", Parents: [{ Id: "ou-ab12-cdef3456", Type: "ORGANIZATIONAL_UNIT" }] },
        { Id: "222222222222" },
      ],
      NextToken: "t2",
    });
    expect(awsCalls).toBe(3);
    expect(made.filter(([op]) => op === "ListParents").map(([, input]) => input)).toEqual([
      { ChildId: "111111111111", MaxResults: 20 },
      { ChildId: "222222222222", MaxResults: 20 },
    ]);
  });

  it("leaves an account whose parents came in part (AWS's empty page with a NextToken) to its own task", async () => {
    const call: DetailCall = async (op) =>
      op === "ListAccounts" ? { Accounts: [{ Id: "111111111111" }] } : { Parents: [], NextToken: "more" };
    const { page } = await listWithDetails(LIST_DETAILS.ListAccounts, {}, call);
    expect(page.Accounts).toEqual([{ Id: "111111111111" }]);
  });
});

describe("listWithDetails: a permission set's accounts", () => {
  const set = {
    InstanceArn: "arn:aws:sso:::instance/ssoins-1",
    PermissionSetArn: "arn:aws:sso:::permissionSet/ps-1",
  };
  const assignment = (AccountId: string) => ({
    AccountId,
    PermissionSetArn: set.PermissionSetArn,
    PrincipalType: "GROUP",
    PrincipalId: "g-1",
  });

  it("keeps each account's assignments by account, read with the set's instance and ARN", async () => {
    const made: Array<[string, Record<string, unknown>]> = [];
    const call: DetailCall = async (op, input) => {
      made.push([op, input]);
      if (op === "ListAccountsForProvisionedPermissionSet")
        return {
          AccountIds: ["111111111111", "222222222222", "333333333333", "444444444444"],
          NextToken: "t2",
        };
      switch (input.AccountId) {
        case "222222222222":
          throw awsError("AccessDeniedException");
        case "333333333333":
          return { AccountAssignments: [assignment("333333333333")], NextToken: "more" };
        case "444444444444":
          return { AccountAssignments: [] };
        default:
          return { AccountAssignments: [assignment(String(input.AccountId))] };
      }
    };
    const { page, awsCalls } = await listWithDetails(
      LIST_DETAILS.ListAccountsForProvisionedPermissionSet,
      { ...set, MaxResults: 100, NextToken: "t1" },
      call,
    );
    // The ids stay as AWS listed them (a mapper that does not know the member reads the page as before); a
    // denied account and one answered in part are not in the map, one with no assignments is, empty.
    expect(page).toEqual({
      AccountIds: ["111111111111", "222222222222", "333333333333", "444444444444"],
      NextToken: "t2",
      AccountAssignmentsByAccount: { "111111111111": [assignment("111111111111")], "444444444444": [] },
    });
    expect(awsCalls).toBe(5);
    expect(made.filter(([op]) => op === "ListAccountAssignments").map(([, input]) => input)).toEqual(
      ["111111111111", "222222222222", "333333333333", "444444444444"].map((AccountId) => ({
        ...set,
        AccountId,
        MaxResults: 100,
      })),
    );
  });

  it("fails the page when a pair's read is throttled past the SDK's retries", async () => {
    const throttled = awsError("ThrottlingException");
    const call: DetailCall = async (op) => {
      if (op === "ListAccountsForProvisionedPermissionSet") return { AccountIds: ["111111111111"] };
      throw throttled;
    };
    await expect(
      listWithDetails(LIST_DETAILS.ListAccountsForProvisionedPermissionSet, set, call),
    ).rejects.toBe(throttled);
  });
});

describe("listWithDetails: groups", () => {
  it("attaches each group's members, read in the page's identity store; a group partly answered is left", async () => {
    const made: Array<Record<string, unknown>> = [];
    const call: DetailCall = async (op, input) => {
      if (op === "ListGroups") return { Groups: [{ GroupId: "g-1" }, { GroupId: "g-2" }] };
      made.push(input);
      const members = [{ MembershipId: "m-1", MemberId: { UserId: "u-1" } }];
      return input.GroupId === "g-1"
        ? { GroupMemberships: members }
        : { GroupMemberships: [], NextToken: "n" };
    };
    const { page, awsCalls } = await listWithDetails(
      LIST_DETAILS.ListGroups,
      { IdentityStoreId: "d-1", AssignmentRoute: "principals", MaxResults: 100 },
      call,
    );
    expect(page.Groups).toEqual([
      { GroupId: "g-1", GroupMemberships: [{ MembershipId: "m-1", MemberId: { UserId: "u-1" } }] },
      { GroupId: "g-2" },
    ]);
    expect(awsCalls).toBe(3);
    expect(made).toEqual([
      { IdentityStoreId: "d-1", GroupId: "g-1", MaxResults: 100 },
      { IdentityStoreId: "d-1", GroupId: "g-2", MaxResults: 100 },
    ]);
  });
});

describe("listWithDetails: a page of many items", () => {
  const many = Array.from({ length: 30 }, (_, i) => `1111111111${String(i).padStart(2, "0")}`);
  const set = {
    InstanceArn: "arn:aws:sso:::instance/ssoins-1",
    PermissionSetArn: "arn:aws:sso:::permissionSet/ps-1",
  };

  it("reads its items a few at a time, every one of them", async () => {
    let inFlight = 0;
    let most = 0;
    const call: DetailCall = async (op) => {
      if (op === "ListAccountsForProvisionedPermissionSet") return { AccountIds: many };
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return { AccountAssignments: [] };
    };
    const { page, awsCalls } = await listWithDetails(
      LIST_DETAILS.ListAccountsForProvisionedPermissionSet,
      set,
      call,
    );
    expect(Object.keys(page.AccountAssignmentsByAccount as object)).toHaveLength(30);
    expect(awsCalls).toBe(31);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(8);
  });

  it("starts no further item once one has failed the page", async () => {
    const made: string[] = [];
    const throttled = awsError("ThrottlingException");
    const call: DetailCall = async (op, input) => {
      if (op === "ListAccountsForProvisionedPermissionSet") return { AccountIds: many };
      made.push(String(input.AccountId));
      await new Promise((r) => setImmediate(r));
      if (input.AccountId === many[2]) throw throttled;
      return { AccountAssignments: [] };
    };
    await expect(
      listWithDetails(LIST_DETAILS.ListAccountsForProvisionedPermissionSet, set, call),
    ).rejects.toBe(throttled);
    // Long enough for every worker to have gone on through the list, had the failure not stopped them.
    for (let i = 0; i < 60; i++) await new Promise((r) => setImmediate(r));
    expect(made.length).toBeLessThan(many.length);
  });
});
