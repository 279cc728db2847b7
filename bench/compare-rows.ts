// The benchmark is only worth its figures if the rows are right: grantline's against the ground truth aws-sim's
// organization implies, and against the sequential reference's.
import type { OrgDocument } from "@grantline/aws-sim";
import { diffRows, expectedIamRows, expectedRows, type ActualRows, type ExpectedRows } from "@grantline/e2e";

export interface RowDiffs {
  diffRef: string[];
  diffTruth: string[];
  refDiffTruth: string[];
  diffIamTruth: string[];
  iamActual: ActualRows;
}

function rowsAsExpected(r: ActualRows): ExpectedRows {
  const key = (t: string, id: string) => `${t}/${id}`;
  return {
    resources: new Map(
      r.resources.map((x) => [
        key(x.type, x.id),
        { name: x.name, parent: x.parent_type && x.parent_id ? key(x.parent_type, x.parent_id) : null },
      ]),
    ),
    entitlements: new Set(r.entitlements.map((e) => e.id)),
    grants: new Set(r.grants.map((g) => g.id)),
  };
}

const IAM_TYPES = [
  "iam_user",
  "iam_group",
  "iam_role",
  "iam_policy",
  "inline_policy",
  "access_key",
  "iam_account",
];
const isIam = (id: string): boolean => IAM_TYPES.some((t) => id.startsWith(`${t}:`));

/** A run's rows split into IAM rows and the rest (Organizations and Identity Center). */
function splitIam(a: ActualRows): { iam: ActualRows; rest: ActualRows } {
  const split = <T>(xs: T[], isIamRow: (x: T) => boolean): [T[], T[]] => [
    xs.filter(isIamRow),
    xs.filter((x) => !isIamRow(x)),
  ];
  const [iamR, restR] = split(a.resources, (r) => IAM_TYPES.includes(r.type));
  const [iamE, restE] = split(a.entitlements, (e) => isIam(e.id));
  const [iamG, restG] = split(a.grants, (g) => isIam(g.id));
  return {
    iam: { resources: iamR, entitlements: iamE, grants: iamG },
    rest: { resources: restR, entitlements: restE, grants: restG },
  };
}

/** diffRows caps its list at 30 lines plus "… and N more": the real count. */
export function diffCount(d: string[]): number {
  const m = /^… and (\d+) more$/.exec(d[d.length - 1] ?? "");
  return m ? d.length - 1 + Number(m[1]) : d.length;
}

/**
 * The reference collects Organizations and Identity Center rows only; grantline's IAM rows are compared with the
 * ground truth of the accounts it synced.
 */
export function compareRows(
  org: OrgDocument,
  grantline: ActualRows,
  reference: ActualRows | null,
  iam: { mapped: boolean; all: boolean },
): RowDiffs {
  const truth = expectedRows(org);
  const { iam: iamActual, rest: actual } = splitIam(grantline);
  const diffTruth = diffRows(truth, actual);
  const diffIamTruth = iam.mapped
    ? diffRows(
        expectedIamRows(org, iam.all ? {} : { accounts: [org.organization.managementAccountId] }),
        iamActual,
      )
    : [];
  const refDiffTruth = reference ? diffRows(truth, reference) : [];
  const diffRef = reference ? diffRows(rowsAsExpected(reference), actual) : [];
  return { diffRef, diffTruth, refDiffTruth, diffIamTruth, iamActual };
}
