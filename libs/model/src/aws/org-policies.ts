import type { PageRequest, PageResult, PrincipalType, ResultBatch } from "@grantline/contracts";
import { orgPoliciesScope, orgPolicyAttachedEntitlementId, orgPolicyTargetsScope } from "../ids.ts";
import { batchFor, child, grant, list, optStr, param, str, vanishedBatch } from "./page-helpers.ts";

/*
 * Organizations SCPs and RCPs: ListPolicies (per type) → DescribePolicy (writes the policy and its `attached`
 * entitlement) and ListTargetsForPolicy (one grant per root, OU or account it is attached to). Only the
 * management account or a delegated administrator may read them; elsewhere ListPolicies is denied, which is a
 * warning on the run (libs/aws names the fix) and keeps whatever an earlier run saw.
 */

/** The policy types synced: the two that restrict access. Tag, backup, AI opt-out… policies grant nothing. */
export const SYNCED_POLICY_TYPES = ["SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"] as const;
const synced: ReadonlySet<string> = new Set(SYNCED_POLICY_TYPES);

/**
 * A root's ListPolicies requests: one per synced type the root reports ENABLED. A type being enabled or disabled
 * (PENDING_*) is not read: disabling detaches every policy of the type, enabling attaches only the default one.
 * Every root of an organization names the same request, so it is one task (the writer dedupes by id).
 */
export function policyTypeRequests(parent: PageRequest, root: Record<string, unknown>): PageRequest[] {
  const enabled = list(root, "PolicyTypes")
    .filter((t) => optStr(t, "Status") === "ENABLED")
    .map((t) => optStr(t, "Type"))
    .filter((t): t is string => t !== null && synced.has(t));
  return [...new Set(enabled)]
    .sort()
    .map((Filter) =>
      child(parent, "organizations", "ListPolicies", { Filter }, orgPoliciesScope(Filter), null),
    );
}

/**
 * Each listed policy's details and targets. The policy is not written here but by its DescribePolicy task (with
 * its content), so one run writes it once; hence the chain never closes its scope either (see `orgPoliciesScope`).
 * A page may be empty while NextToken is set: `batchFor` follows the token whatever the page holds.
 */
export function mapListPolicies(res: PageResult): ResultBatch {
  const Filter = param(res.request, "Filter");
  const policies = list(res.page, "Policies");
  const batch = batchFor(res, {
    children: policies.flatMap((p) => {
      const PolicyId = str(p, "Id");
      return [
        child(res.request, "organizations", "DescribePolicy", { PolicyId }, null),
        child(
          res.request,
          "organizations",
          "ListTargetsForPolicy",
          { PolicyId },
          orgPolicyTargetsScope(optStr(p, "Type") ?? Filter, PolicyId),
        ),
      ];
    }),
  });
  return { ...batch, scopeComplete: false };
}

/** DescribePolicy's request param (ignored by the SDK) asking for the policy's ListTargetsForPolicy chain too. */
export const WITH_TARGETS_PARAM = "WithTargets";

/** A policy deleted since: it goes with its `attached` entitlement and the grants on it. */
export function mapVanishedPolicy(res: PageResult): ResultBatch {
  return vanishedBatch(res, [{ kind: "resource", type: "org_policy", id: param(res.request, "PolicyId") }]);
}

/** The policy, with its document (`Content`, the policy JSON as AWS stores it), and its `attached` entitlement. */
export function mapDescribePolicy(res: PageResult): ResultBatch {
  const policy = res.page.Policy as Record<string, unknown> | undefined;
  const summary = policy?.PolicySummary as Record<string, unknown> | undefined;
  const id = str(summary, "Id");
  const name = optStr(summary, "Name") ?? id;
  const policyType = str(summary, "Type");
  const scope = orgPoliciesScope(policyType);
  return batchFor(res, {
    // A targeted refresh of the policy's targets learns its type (which names the targets' scope) from here.
    children:
      res.request.params[WITH_TARGETS_PARAM] === true
        ? [
            child(
              res.request,
              "organizations",
              "ListTargetsForPolicy",
              { PolicyId: id },
              orgPolicyTargetsScope(policyType, id),
            ),
          ]
        : [],
    resources: [
      {
        type: "org_policy",
        id,
        parentType: null,
        parentId: null,
        name,
        attrs: {
          arn: optStr(summary, "Arn"),
          policyType,
          awsManaged: summary?.AwsManaged === true,
          description: optStr(summary, "Description"),
          document: optStr(policy, "Content"),
        },
        scope,
      },
    ],
    entitlements: [
      {
        id: orgPolicyAttachedEntitlementId(id),
        resourceType: "org_policy",
        resourceId: id,
        slug: "attached",
        name: `${name} attached`,
        attrs: {},
        scope,
      },
    ],
  });
}

const TARGET_TYPES: Readonly<Record<string, PrincipalType>> = {
  ROOT: "root",
  ORGANIZATIONAL_UNIT: "organizational_unit",
  ACCOUNT: "account",
};

/**
 * One grant per node the policy is attached to, held by that node. Not expandable: a policy reaches what is under
 * its target through the organization's tree, which `effective_grants` does not walk.
 */
export function mapListTargetsForPolicy(res: PageResult): ResultBatch {
  const ent = orgPolicyAttachedEntitlementId(param(res.request, "PolicyId"));
  const warnings: string[] = [];
  const grants = list(res.page, "Targets").flatMap((t) => {
    const type = TARGET_TYPES[optStr(t, "Type") ?? ""];
    const targetId = str(t, "TargetId");
    if (type) return [grant(ent, type, targetId, false)];
    warnings.push(`organizations: policy target ${targetId} has an unknown type ${optStr(t, "Type")}`);
    return [];
  });
  return batchFor(res, { grants, warnings });
}
