import { describe, expect, it } from "vitest";
import { idealFloor, quotaRates } from "./floor.ts";
import type { TaskTime } from "./run-pipeline.ts";

const task = (service: string, operation: string, calls: number): TaskTime => [
  service,
  operation,
  0,
  0,
  0,
  null,
  calls,
];

describe("idealFloor", () => {
  it("counts a list page's detail calls on the detail's own budget, from the fetch that settled it", () => {
    const rates = quotaRates(1);
    // A permission set's accounts page that read 39 pairs: 40 SSO Admin calls, as 40 pair tasks were.
    const pages = [task("sso-admin", "ListAccountsForProvisionedPermissionSet", 40)];
    const tasks = [
      task("sso-admin", "ListAccountsForProvisionedPermissionSet", 1),
      ...Array.from({ length: 39 }, () => task("sso-admin", "ListAccountAssignments", 1)),
    ];
    expect(idealFloor(pages, "111111111111", rates)).toEqual(idealFloor(tasks, "111111111111", rates));
    expect(idealFloor(pages, "111111111111", rates).seconds).toBeCloseTo(40 / rates.sso);
    // Groups: the list on ListGroups' budget, the members on ListGroupMemberships'.
    const groups = idealFloor([task("identitystore", "ListGroups", 61)], "111111111111", rates);
    expect(groups.scope).toMatch(/ListGroupMemberships/);
    expect(groups.seconds).toBeCloseTo(60 / rates.identitystore);
  });
});
