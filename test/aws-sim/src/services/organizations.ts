import { AwsError } from "../aws-error.ts";
import { epoch } from "../protocols/json.ts";
import type { AccountDoc } from "../org-document.ts";
import type { Ctx } from "./context.ts";
import type { JsonHandler } from "./json-input.ts";
import { orgArgs, orgId } from "./organizations-args.ts";
import { ORGANIZATIONS_POLICY_OPERATIONS, policyTypesJson } from "./organizations-policies.ts";

const args = orgArgs;
function accountJson(ctx: Ctx, a: AccountDoc): Record<string, unknown> {
  const o = ctx.store.org;
  return {
    Id: a.id,
    Arn: `arn:aws:organizations::${o.managementAccountId}:account/${o.id}/${a.id}`,
    Email: a.email,
    Name: a.name,
    // Status is retired on 2026-09-09 in favour of State; AWS answers both until then.
    Status: a.status,
    State: a.status,
    JoinedMethod: a.joinedMethod,
    JoinedTimestamp: epoch(a.joinedTimestamp),
  };
}
const rootArn = (ctx: Ctx, id: string): string =>
  `arn:aws:organizations::${ctx.store.org.managementAccountId}:root/${ctx.store.org.id}/${id}`;

export const ORGANIZATIONS_OPERATIONS: Record<string, JsonHandler<Ctx>> = {
  DescribeOrganization: (ctx) => {
    const o = ctx.store.org;
    const m = ctx.store.accounts.get(o.managementAccountId);
    // DescribeOrganization is allowed from member accounts too.
    return {
      Organization: {
        Id: o.id,
        Arn: `arn:aws:organizations::${o.managementAccountId}:organization/${o.id}`,
        FeatureSet: o.featureSet,
        MasterAccountArn: `arn:aws:organizations::${o.managementAccountId}:account/${o.id}/${o.managementAccountId}`,
        MasterAccountId: o.managementAccountId,
        MasterAccountEmail: m?.doc.email,
        // Deprecated by AWS in favour of ListRoots' PolicyTypes, which it mirrors.
        AvailablePolicyTypes: ctx.store.roots[0] ? policyTypesJson(ctx.store.roots[0]) : [],
      },
    };
  },
  ListAccounts: (ctx, input) => {
    const a = args(ctx, input);
    const r = a.page([...ctx.store.accounts.values()], 20, "accounts", 20);
    return { Accounts: r.items.map((s) => accountJson(ctx, s.doc)), NextToken: r.NextToken };
  },
  DescribeAccount: (ctx, input) => {
    const id = orgId(args(ctx, input), "AccountId", "account");
    const s = ctx.store.accounts.get(id);
    if (!s)
      throw new AwsError("AccountNotFoundException", "You specified an account that doesn't exist.", 404);
    return { Account: accountJson(ctx, s.doc) };
  },
  ListRoots: (ctx, input) => {
    const r = args(ctx, input).page(ctx.store.roots, 20, "roots", 20);
    return {
      Roots: r.items.map((x) => ({
        Id: x.id,
        Arn: rootArn(ctx, x.id),
        Name: x.name,
        PolicyTypes: policyTypesJson(x),
      })),
      NextToken: r.NextToken,
    };
  },
  ListOrganizationalUnitsForParent: (ctx, input) => {
    const a = args(ctx, input);
    const parent = orgId(a, "ParentId", "parent");
    if (!ctx.store.roots.some((r) => r.id === parent) && !ctx.store.ous.has(parent))
      throw new AwsError(
        "ParentNotFoundException",
        "We can't find a root or OU with the ParentId that you specified.",
        404,
      );
    const ous = [...ctx.store.ous.values()].filter((o) => o.parentId === parent);
    const r = a.page(ous, 20, `ous:${parent}`, 20);
    const o = ctx.store.org;
    return {
      OrganizationalUnits: r.items.map((u) => ({
        Id: u.id,
        Arn: `arn:aws:organizations::${o.managementAccountId}:ou/${o.id}/${u.id}`,
        Name: u.name,
      })),
      NextToken: r.NextToken,
    };
  },
  ListParents: (ctx, input) => {
    const a = args(ctx, input);
    const child = orgId(a, "ChildId", "child");
    const parentId = ctx.store.accounts.get(child)?.doc.parentId ?? ctx.store.ous.get(child)?.parentId;
    if (!parentId)
      throw new AwsError(
        "ChildNotFoundException",
        "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.",
        404,
      );
    const r = a.page([parentId], 20, `parents:${child}`, 20);
    return {
      Parents: r.items.map((id) => ({ Id: id, Type: id.startsWith("r-") ? "ROOT" : "ORGANIZATIONAL_UNIT" })),
      NextToken: r.NextToken,
    };
  },
  ...ORGANIZATIONS_POLICY_OPERATIONS,
};
