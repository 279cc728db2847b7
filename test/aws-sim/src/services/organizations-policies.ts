// Organizations' authorization policies (SCPs, RCPs): list/describe, their targets, attach and detach. Policy
// types are enabled per root (ListRoots PolicyTypes); lists page at most 20 like the rest of Organizations.
import type { OrgDocument, OrgPolicyDoc } from "../org-document.ts";
import type { Ctx } from "./context.ts";
import type { JsonArgs, JsonHandler } from "./json-input.ts";
import { invalid, orgArgs, orgId } from "./organizations-args.ts";

const TYPES = [
  "SERVICE_CONTROL_POLICY",
  "RESOURCE_CONTROL_POLICY",
  "TAG_POLICY",
  "BACKUP_POLICY",
  "AISERVICES_OPT_OUT_POLICY",
  "CHATBOT_POLICY",
  "DECLARATIVE_POLICY_EC2",
];

export const policyTypesJson = (root: OrgDocument["roots"][number]): Array<Record<string, string>> =>
  root.policyTypes.map((t) => ({ Type: t.type, Status: t.status }));

function filter(a: JsonArgs): string {
  const f = a.req("Filter");
  if (!TYPES.includes(f))
    throw invalid(
      `You specified an invalid value for the Filter parameter: ${f}.`,
      "INVALID_ENUM_POLICY_TYPE",
    );
  return f;
}
const summary = (p: OrgPolicyDoc): Record<string, unknown> => ({
  Id: p.id,
  Arn: p.arn,
  Name: p.name,
  Description: p.description ?? "",
  Type: p.type,
  AwsManaged: p.awsManaged,
});
function targetJson(ctx: Ctx, id: string): Record<string, unknown> {
  const o = ctx.store.org;
  const base = `arn:aws:organizations::${o.managementAccountId}`;
  if (id.startsWith("r-"))
    return {
      TargetId: id,
      Arn: `${base}:root/${o.id}/${id}`,
      Name: ctx.store.roots.find((r) => r.id === id)?.name,
      Type: "ROOT",
    };
  if (id.startsWith("ou-"))
    return {
      TargetId: id,
      Arn: `${base}:ou/${o.id}/${id}`,
      Name: ctx.store.ous.get(id)?.name,
      Type: "ORGANIZATIONAL_UNIT",
    };
  return {
    TargetId: id,
    Arn: `${base}:account/${o.id}/${id}`,
    Name: ctx.store.accounts.get(id)?.doc.name,
    Type: "ACCOUNT",
  };
}
function attachment(op: "attach" | "detach"): JsonHandler<Ctx> {
  return (ctx, input) => {
    const a = orgArgs(ctx, input);
    const [policy, target] = [orgId(a, "PolicyId", "policy"), orgId(a, "TargetId", "target")];
    ctx.store.organizationPolicies[op](ctx.actor, policy, target);
    return {};
  };
}
const policies = (ctx: Ctx): OrgPolicyDoc[] => [...ctx.store.orgPolicies.values()];

export const ORGANIZATIONS_POLICY_OPERATIONS: Record<string, JsonHandler<Ctx>> = {
  ListPolicies: (ctx, input) => {
    const a = orgArgs(ctx, input);
    const type = filter(a);
    const r = a.page(
      policies(ctx).filter((p) => p.type === type),
      20,
      `policies:${type}`,
      20,
    );
    return { Policies: r.items.map(summary), NextToken: r.NextToken };
  },
  DescribePolicy: (ctx, input) => {
    const p = ctx.store.organizationPolicies.policy(orgId(orgArgs(ctx, input), "PolicyId", "policy"));
    return { Policy: { PolicySummary: summary(p), Content: p.content } };
  },
  ListTargetsForPolicy: (ctx, input) => {
    const a = orgArgs(ctx, input);
    const p = ctx.store.organizationPolicies.policy(orgId(a, "PolicyId", "policy"));
    const live = p.targets.filter((t) => ctx.store.organizationPolicies.targetExists(t));
    const r = a.page(live, 20, `targets:${p.id}`, 20);
    return { Targets: r.items.map((t) => targetJson(ctx, t)), NextToken: r.NextToken };
  },
  ListPoliciesForTarget: (ctx, input) => {
    const a = orgArgs(ctx, input);
    const target = orgId(a, "TargetId", "target");
    const type = filter(a);
    ctx.store.organizationPolicies.requireTarget(target);
    const all = policies(ctx).filter((p) => p.type === type && p.targets.includes(target));
    const r = a.page(all, 20, `pft:${target}:${type}`, 20);
    return { Policies: r.items.map(summary), NextToken: r.NextToken };
  },
  AttachPolicy: attachment("attach"),
  DetachPolicy: attachment("detach"),
};
