import { AwsError } from "../aws-error.ts";
import type { IdentityStoreGroupDoc, IdentityStoreUserDoc } from "../org-document.ts";
import type { Membership } from "../store.ts";
import type { Ctx } from "./context.ts";
import { asError, JsonArgs } from "./json-input.ts";
import type { JsonHandler, JsonInput } from "./json-input.ts";

const validation = asError("ValidationException");
function args(ctx: Ctx, input: JsonInput): JsonArgs {
  if (ctx.actor.accountId !== ctx.store.org.managementAccountId)
    throw new AwsError("AccessDeniedException", "User is not authorized to perform this action.", 403);
  const a = new JsonArgs(input, validation);
  const id = a.req("IdentityStoreId");
  if (!/^d-[0-9a-f]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id))
    throw validation(
      `1 validation error detected: Value '${id}' at 'identityStoreId' failed to satisfy constraint: Member must satisfy regular expression pattern: d-[0-9a-f]{10}$|^[0-9a-f]{8}\\b-[0-9a-f]{4}\\b-[0-9a-f]{4}\\b-[0-9a-f]{4}\\b-[0-9a-f]{12}`,
    );
  ctx.store.identityStore.requireStore(id);
  return a;
}
const notFound = (type: string, id: string): AwsError =>
  new AwsError("ResourceNotFoundException", `${type} not found.`, 404, {
    ResourceType: type,
    ResourceId: id,
  });
const userJson = (store: string, u: IdentityStoreUserDoc): Record<string, unknown> => ({
  UserId: u.userId,
  IdentityStoreId: store,
  UserName: u.userName,
  DisplayName: u.displayName,
  Name: { Formatted: u.name.formatted, FamilyName: u.name.familyName, GivenName: u.name.givenName },
  Emails: u.emails.length
    ? u.emails.map((e) => ({ Value: e.value, Type: e.type, Primary: e.primary }))
    : undefined,
  // AWS added UserStatus after the pinned model (see smithy/model-additions.ts); it mirrors SCIM `active`.
  UserStatus: u.active ? "ENABLED" : "DISABLED",
});
const groupJson = (store: string, g: IdentityStoreGroupDoc): Record<string, unknown> => ({
  GroupId: g.groupId,
  DisplayName: g.displayName,
  Description: g.description,
  IdentityStoreId: store,
});
const membershipJson = (store: string, m: Membership): Record<string, unknown> => ({
  IdentityStoreId: store,
  MembershipId: m.membershipId,
  GroupId: m.groupId,
  MemberId: { UserId: m.userId },
});
function filterValue(input: JsonInput, path: string): string | undefined {
  const f = input.Filters;
  if (!Array.isArray(f) || f.length === 0) return undefined;
  if (f.length > 1)
    throw validation(
      "1 validation error detected: Value at 'filters' failed to satisfy constraint: Member must have length less than or equal to 1",
    );
  const x = f[0] as { AttributePath?: string; AttributeValue?: string };
  if (x.AttributePath !== path)
    throw validation(`Invalid AttributePath: ${x.AttributePath}. Only ${path} is supported.`);
  return x.AttributeValue ?? "";
}
function memberUser(input: JsonInput): string {
  const m = input.MemberId as { UserId?: unknown } | undefined;
  if (!m || typeof m.UserId !== "string")
    throw validation(
      "1 validation error detected: Value null at 'memberId' failed to satisfy constraint: Member must not be null",
    );
  return checkResourceId(m.UserId, "memberId.userId");
}
const RESOURCE_ID =
  /^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$/;
/** User, group and membership ids have a model pattern: a malformed one is a ValidationException, not not-found. */
function checkResourceId(v: string, at: string): string {
  if (!RESOURCE_ID.test(v))
    throw validation(
      `1 validation error detected: Value '${v}' at '${at}' failed to satisfy constraint: Member must satisfy regular expression pattern: ([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}`,
    );
  return v;
}
const resourceId = (a: JsonArgs, name: string): string =>
  checkResourceId(a.req(name), name[0]!.toLowerCase() + name.slice(1));

export const IDENTITY_STORE_OPERATIONS: Record<string, JsonHandler<Ctx>> = {
  ListUsers: (ctx, input) => {
    const a = args(ctx, input);
    const f = filterValue(input, "UserName");
    const all = [...ctx.store.users.values()].filter((u) => f === undefined || u.userName === f);
    const r = a.page(all, 100, `users:${f ?? ""}`);
    return { Users: r.items.map((u) => userJson(ctx.store.ic!.identityStoreId, u)), NextToken: r.NextToken };
  },
  DescribeUser: (ctx, input) => {
    const id = resourceId(args(ctx, input), "UserId");
    const u = ctx.store.users.get(id);
    if (!u) throw notFound("USER", id);
    return userJson(ctx.store.ic!.identityStoreId, u);
  },
  ListGroups: (ctx, input) => {
    const a = args(ctx, input);
    const f = filterValue(input, "DisplayName");
    const all = [...ctx.store.groups.values()].filter((g) => f === undefined || g.displayName === f);
    const r = a.page(all, 100, `groups:${f ?? ""}`);
    return {
      Groups: r.items.map((g) => groupJson(ctx.store.ic!.identityStoreId, g)),
      NextToken: r.NextToken,
    };
  },
  DescribeGroup: (ctx, input) => {
    const id = resourceId(args(ctx, input), "GroupId");
    const g = ctx.store.groups.get(id);
    if (!g) throw notFound("GROUP", id);
    return groupJson(ctx.store.ic!.identityStoreId, g);
  },
  ListGroupMemberships: (ctx, input) => {
    const a = args(ctx, input);
    const gid = resourceId(a, "GroupId");
    if (!ctx.store.groups.has(gid)) throw notFound("GROUP", gid);
    const r = a.page([...(ctx.store.membershipsByGroup.get(gid)?.values() ?? [])], 100, `gm:${gid}`);
    return {
      GroupMemberships: r.items.map((m) => membershipJson(ctx.store.ic!.identityStoreId, m)),
      NextToken: r.NextToken,
    };
  },
  ListGroupMembershipsForMember: (ctx, input) => {
    const a = args(ctx, input);
    const uid = memberUser(input);
    if (!ctx.store.users.has(uid)) throw notFound("USER", uid);
    const r = a.page([...(ctx.store.membershipsByUser.get(uid)?.values() ?? [])], 100, `gmm:${uid}`);
    return {
      GroupMemberships: r.items.map((m) => membershipJson(ctx.store.ic!.identityStoreId, m)),
      NextToken: r.NextToken,
    };
  },
  GetGroupMembershipId: (ctx, input) => {
    const a = args(ctx, input);
    const gid = resourceId(a, "GroupId");
    const uid = memberUser(input);
    const m = ctx.store.identityStore.findMembership(gid, uid);
    if (!m) throw notFound("GROUP_MEMBERSHIP", `${gid}:${uid}`);
    return { MembershipId: m.membershipId, IdentityStoreId: ctx.store.ic!.identityStoreId };
  },
  CreateGroupMembership: (ctx, input) => {
    const a = args(ctx, input);
    const m = ctx.store.identityStore.createGroupMembership(
      ctx.actor,
      resourceId(a, "GroupId"),
      memberUser(input),
    );
    return { MembershipId: m.membershipId, IdentityStoreId: ctx.store.ic!.identityStoreId };
  },
  DeleteGroupMembership: (ctx, input) => {
    ctx.store.identityStore.deleteGroupMembership(ctx.actor, resourceId(args(ctx, input), "MembershipId"));
    return {};
  },
};
