// IAM's query-protocol response shapes (users, groups, roles, managed policies), shared by IAM_OPERATIONS' list,
// get and GetAccountAuthorizationDetails handlers so one entity renders the same in each.
import { AWS_MANAGED_CREATE_DATE, AWS_MANAGED_POLICIES } from "../aws-managed-policies.ts";
import type { IamGroupDoc, IamPolicyDoc, IamRoleDoc, IamUserDoc } from "../org-document.ts";
import { encodePolicy } from "../protocols/query.ts";
import type { XmlValue } from "../protocols/query.ts";
import type { AccountState } from "../store.ts";
import type { Ctx } from "./context.ts";

export const arnOf = (acct: string, kind: string, e: { path: string; name: string }): string =>
  `arn:aws:iam::${acct}:${kind}${e.path}${e.name}`;
export const userXml = (acct: string, u: IamUserDoc, full = false): Record<string, XmlValue> => ({
  Path: u.path,
  UserName: u.name,
  UserId: u.id,
  Arn: arnOf(acct, "user", u),
  CreateDate: u.createDate,
  PasswordLastUsed: u.passwordLastUsed,
  ...(full ? { PermissionsBoundary: boundaryXml(u.permissionsBoundary) } : {}),
  ...(full && u.tags.length ? { Tags: u.tags } : {}),
});
/** GetUser, GetRole and GAAD's detail lists carry the boundary; the List* operations do not. */
export const boundaryXml = (arn: string | undefined): XmlValue =>
  arn === undefined
    ? undefined
    : { PermissionsBoundaryType: "PermissionsBoundaryPolicy", PermissionsBoundaryArn: arn };
export const groupXml = (acct: string, g: IamGroupDoc): Record<string, XmlValue> => ({
  Path: g.path,
  GroupName: g.name,
  GroupId: g.id,
  Arn: arnOf(acct, "group", g),
  CreateDate: g.createDate,
});
export const roleXml = (acct: string, r: IamRoleDoc, full = false): Record<string, XmlValue> => ({
  Path: r.path,
  RoleName: r.name,
  RoleId: r.id,
  Arn: arnOf(acct, "role", r),
  CreateDate: r.createDate,
  AssumeRolePolicyDocument: encodePolicy(r.trustPolicy),
  Description: r.description,
  MaxSessionDuration: r.maxSessionDuration,
  ...(full
    ? {
        PermissionsBoundary: boundaryXml(r.permissionsBoundary),
        Tags: r.tags.length ? r.tags : undefined,
        RoleLastUsed: {},
      }
    : {}),
});

export function acctState(ctx: Ctx): AccountState {
  return ctx.store.account(ctx.actor.accountId);
}
export function policyMeta(
  ctx: Ctx,
  arn: string,
):
  | {
      name: string;
      path: string;
      id: string;
      description?: string;
      createDate: string;
      updateDate: string;
      defaultVersionId: string;
      versions: IamPolicyDoc["versions"];
      aws: boolean;
    }
  | undefined {
  const m = AWS_MANAGED_POLICIES.get(arn);
  if (m)
    return {
      name: m.name,
      path: m.path,
      id: m.id,
      description: m.description,
      createDate: AWS_MANAGED_CREATE_DATE,
      updateDate: AWS_MANAGED_CREATE_DATE,
      defaultVersionId: "v1",
      versions: [{ versionId: "v1", document: m.document, createDate: AWS_MANAGED_CREATE_DATE }],
      aws: true,
    };
  const c = acctState(ctx).policies.get(arn);
  if (c)
    return {
      name: c.name,
      path: c.path,
      id: c.id,
      description: c.description,
      createDate: c.createDate,
      updateDate: c.updateDate ?? c.createDate,
      defaultVersionId: c.defaultVersionId,
      versions: c.versions,
      aws: false,
    };
  return undefined;
}
export function attachmentCount(s: AccountState, arn: string): number {
  let n = 0;
  for (const m of [s.users, s.groups, s.roles] as Array<Map<string, { attachedPolicies: string[] }>>)
    for (const e of m.values()) if (e.attachedPolicies.includes(arn)) n++;
  return n;
}
export function boundaryCount(s: AccountState, arn: string): number {
  let n = 0;
  for (const m of [s.users, s.roles] as Array<Map<string, { permissionsBoundary?: string }>>)
    for (const e of m.values()) if (e.permissionsBoundary === arn) n++;
  return n;
}
export function policyXml(ctx: Ctx, arn: string, withVersions = false): Record<string, XmlValue> {
  const m = policyMeta(ctx, arn)!;
  return {
    PolicyName: m.name,
    PolicyId: m.id,
    Arn: arn,
    Path: m.path,
    DefaultVersionId: m.defaultVersionId,
    AttachmentCount: attachmentCount(acctState(ctx), arn),
    PermissionsBoundaryUsageCount: boundaryCount(acctState(ctx), arn),
    IsAttachable: true,
    Description: m.description,
    CreateDate: m.createDate,
    UpdateDate: m.updateDate,
    ...(withVersions
      ? {
          PolicyVersionList: m.versions.map((v) => ({
            Document: encodePolicy(v.document),
            VersionId: v.versionId,
            IsDefaultVersion: v.versionId === m.defaultVersionId,
            CreateDate: v.createDate,
          })),
        }
      : {}),
  };
}
export const attached = (ctx: Ctx, arns: string[]): Array<Record<string, XmlValue>> =>
  arns.map((a) => ({ PolicyName: policyMeta(ctx, a)?.name ?? a.split("/").pop(), PolicyArn: a }));
