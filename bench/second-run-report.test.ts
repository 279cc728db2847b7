import { describe, expect, it } from "vitest";
import type { RowDiffs } from "./compare-rows.ts";
import { quotaRates } from "./floor.ts";
import { secondRunFigures } from "./second-run-report.ts";

const noDiffs: RowDiffs = {
  diffRef: [],
  diffTruth: [],
  refDiffTruth: [],
  diffIamTruth: [],
  iamActual: { resources: [], entitlements: [], grants: [] },
};
const op = (calls: number, errors = 0) => ({ calls, throttled: 0, errors });

function measured(ops: Record<string, ReturnType<typeof op>>, wallS: number) {
  return {
    status: "succeeded",
    tasks: 100,
    failedTasks: 0,
    wallMs: wallS * 1000,
    cpuS: { scheduler: 1, "fetcher-1": 2, "fetcher-2": 2, mapper: 1, writer: 4, postgres: 9, "aws-sim": 3 },
    counters: { operations: ops, totals: { calls: 0, throttled: 0, errors: 0 } },
  };
}
const floor = (seconds: number) => ({ scope: "sso-admin (all operations)", calls: 0, rate: 20, seconds });

describe("secondRunFigures", () => {
  it("counts the composite's five operations; the floor it saves is their successful calls at the SSO rate", () => {
    const first = measured(
      {
        "sso:ListAccountAssignments": op(800),
        "sso:DescribePermissionSet": op(40),
        "sso:ListManagedPoliciesInPermissionSet": op(40),
        "sso:ListCustomerManagedPolicyReferencesInPermissionSet": op(40),
        "sso:GetInlinePolicyForPermissionSet": op(40),
        // A set without a boundary answers NotFound: an attempt, not a call the floor counts.
        "sso:GetPermissionsBoundaryForPermissionSet": op(40, 27),
      },
      55,
    );
    const second = measured({ "sso:ListAccountAssignments": op(800) }, 45);
    const f = secondRunFigures(
      { p: first, floor: floor(50.65), diffs: noDiffs },
      { run: second, floor: floor(40), diffs: noDiffs },
      quotaRates(1),
    );
    expect(f.first.describeCalls).toBe(200);
    expect(f.second.describeCalls).toBe(0);
    expect(f.describeCallsSaved).toBe(200);
    expect(f.floorSavedIfSsoBoundS).toBeCloseTo(173 / 20);
    // CPU of the grantline services only (not Postgres, not aws-sim), per AWS call.
    expect(f.first.serviceCpuS).toBe(10);
    expect(f.second.cpuMsPerCall).toBe(12.5);
  });
});
