// IAM's write operations (awsQuery): what grantline's tests and the CLI change through the API rather than the
// admin mutations. Each goes through the IAM store, which appends the CloudTrail record.
import type { QueryParams, XmlValue } from "../protocols/query.ts";
import type { Ctx } from "./context.ts";
import { optional, required } from "./iam-args.ts";
import { userXml } from "./iam-xml.ts";

type Handler = (ctx: Ctx, p: QueryParams) => Record<string, XmlValue> | null;

function attachWrite(kind: "User" | "Group" | "Role", op: "attach" | "detach"): Handler {
  return (ctx, p) => {
    const name = required(p, `${kind}Name`);
    const arn = required(p, "PolicyArn");
    const t = kind.toLowerCase() as "user" | "group" | "role";
    if (op === "attach") ctx.store.iam.attachPolicy(ctx.actor, ctx.actor.accountId, t, name, arn);
    else ctx.store.iam.detachPolicy(ctx.actor, ctx.actor.accountId, t, name, arn);
    return null;
  };
}
function boundaryWrite(kind: "User" | "Role", op: "put" | "delete"): Handler {
  return (ctx, p) => {
    const name = required(p, `${kind}Name`);
    const arn = op === "put" ? required(p, "PermissionsBoundary") : undefined;
    const t = kind === "User" ? "user" : "role";
    ctx.store.iam.setPermissionsBoundary(ctx.actor, ctx.actor.accountId, t, name, arn);
    return null;
  };
}

export const IAM_WRITE_OPERATIONS: Record<string, Handler> = {
  CreateUser: (ctx, p) => {
    const name = required(p, "UserName");
    const tags = p
      .structList("Tags", ["Key", "Value"])
      .map((t) => ({ Key: t.Key ?? "", Value: t.Value ?? "" }));
    const u = ctx.store.iam.createIamUser(ctx.actor, ctx.actor.accountId, {
      userName: name,
      path: optional(p, "Path"),
      tags,
    });
    return { User: userXml(ctx.actor.accountId, u, true) };
  },
  AddUserToGroup: (ctx, p) => {
    ctx.store.iam.addUserToGroup(
      ctx.actor,
      ctx.actor.accountId,
      required(p, "GroupName"),
      required(p, "UserName"),
    );
    return null;
  },
  RemoveUserFromGroup: (ctx, p) => {
    ctx.store.iam.removeUserFromGroup(
      ctx.actor,
      ctx.actor.accountId,
      required(p, "GroupName"),
      required(p, "UserName"),
    );
    return null;
  },
  AttachUserPolicy: attachWrite("User", "attach"),
  AttachGroupPolicy: attachWrite("Group", "attach"),
  AttachRolePolicy: attachWrite("Role", "attach"),
  DetachUserPolicy: attachWrite("User", "detach"),
  DetachGroupPolicy: attachWrite("Group", "detach"),
  DetachRolePolicy: attachWrite("Role", "detach"),
  PutUserPermissionsBoundary: boundaryWrite("User", "put"),
  DeleteUserPermissionsBoundary: boundaryWrite("User", "delete"),
  PutRolePermissionsBoundary: boundaryWrite("Role", "put"),
  DeleteRolePermissionsBoundary: boundaryWrite("Role", "delete"),
  UpdateAssumeRolePolicy: (ctx, p) => {
    const name = required(p, "RoleName");
    ctx.store.iam.updateAssumeRolePolicy(ctx.actor, ctx.actor.accountId, name, required(p, "PolicyDocument"));
    return null;
  },
};
