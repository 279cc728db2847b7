import type { Actor } from "../actor.ts";
import { AwsError } from "../aws-error.ts";
import { storeId } from "../ids.ts";
import type { IdentityStoreGroupDoc, IdentityStoreUserDoc } from "../org-document.ts";
import { groupResource, HIDDEN, scimEvent, userResource } from "../scim-events.ts";
import type { Membership, StoreState } from "./store-state.ts";
const notFound = (type: string, id: string): AwsError =>
  new AwsError("ResourceNotFoundException", `${type} not found.`, 404, {
    ResourceType: type,
    ResourceId: id,
  });
/** Identity Center's users, groups and group memberships. */
export class IdentityStoreStore {
  constructor(private readonly s: StoreState) {}

  requireStore(id: string): void {
    if (!this.s.ic || this.s.ic.identityStoreId !== id)
      throw new AwsError("ResourceNotFoundException", "Identity store not found.", 404, {
        ResourceType: "IDENTITY_STORE",
        ResourceId: id,
      });
  }
  createIdentityStoreUser(
    actor: Actor | null,
    p: { userName: string; displayName: string; givenName: string; familyName: string; email?: string },
  ): IdentityStoreUserDoc {
    const ic = this.s.icOrThrow();
    for (const u of this.s.users.values())
      if (u.userName === p.userName)
        throw new AwsError("ConflictException", "Duplicate UserName", 409, {
          Reason: "UNIQUENESS_CONSTRAINT_VIOLATION",
        });
    const u: IdentityStoreUserDoc = {
      userId: storeId(this.s.rng),
      userName: p.userName,
      displayName: p.displayName,
      name: { givenName: p.givenName, familyName: p.familyName, formatted: `${p.givenName} ${p.familyName}` },
      emails: p.email ? [{ value: p.email, type: "work", primary: true }] : [],
      active: true,
    };
    this.s.users.set(u.userId, u);
    if (this.s.viaScim())
      this.s.recordScim(scimEvent(this.s.scimTenantId(), { kind: "createUser", userId: u.userId }));
    else
      this.s.record(
        actor,
        this.s.mgmt(),
        "identitystore.amazonaws.com",
        "CreateUser",
        // Identity Store hides personal data in its events; the new user is known by the response's userId.
        {
          identityStoreId: ic.identityStoreId,
          userName: HIDDEN,
          displayName: HIDDEN,
          name: { givenName: HIDDEN, familyName: HIDDEN },
          ...(p.email ? { emails: [{ value: HIDDEN, type: "work", primary: true }] } : {}),
        },
        userResource(u.userId),
        { identityStoreId: ic.identityStoreId, userId: u.userId },
      );
    return u;
  }
  deleteIdentityStoreUser(actor: Actor | null, userId: string): void {
    const ic = this.s.icOrThrow();
    if (!this.s.users.has(userId))
      throw new AwsError("ResourceNotFoundException", "USER not found.", 404, {
        ResourceType: "USER",
        ResourceId: userId,
      });
    this.s.users.delete(userId);
    for (const m of [...(this.s.membershipsByUser.get(userId)?.values() ?? [])]) this.s.unindexMembership(m);
    for (const a of [...(this.s.assignmentsByPrincipal.get(userId)?.values() ?? [])])
      this.s.unindexAssignment(a);
    if (this.s.viaScim()) this.s.recordScim(scimEvent(this.s.scimTenantId(), { kind: "deleteUser", userId }));
    else
      this.s.record(
        actor,
        this.s.mgmt(),
        "identitystore.amazonaws.com",
        "DeleteUser",
        { identityStoreId: ic.identityStoreId, userId },
        userResource(userId),
      );
  }
  /** Identity Center's enable/disable user (SCIM `active`); CloudTrail records it as UpdateUser. */
  setUserActive(actor: Actor | null, userId: string, active: boolean): IdentityStoreUserDoc {
    const ic = this.s.icOrThrow();
    const u = this.s.users.get(userId);
    if (!u) throw notFound("USER", userId);
    u.active = active;
    if (this.s.viaScim())
      this.s.recordScim(scimEvent(this.s.scimTenantId(), { kind: "patchUser", userId, active }));
    else
      this.s.record(
        actor,
        this.s.mgmt(),
        "identitystore.amazonaws.com",
        "UpdateUser",
        {
          identityStoreId: ic.identityStoreId,
          userId,
          operations: [{ attributePath: "userStatus", attributeValue: active ? "ENABLED" : "DISABLED" }],
        },
        userResource(userId),
      );
    return u;
  }
  createIdentityStoreGroup(
    actor: Actor | null,
    p: { displayName: string; description?: string },
  ): IdentityStoreGroupDoc {
    const ic = this.s.icOrThrow();
    for (const g of this.s.groups.values())
      if (g.displayName === p.displayName)
        throw new AwsError("ConflictException", "Duplicate GroupDisplayName", 409, {
          Reason: "UNIQUENESS_CONSTRAINT_VIOLATION",
        });
    const g: IdentityStoreGroupDoc = {
      groupId: storeId(this.s.rng),
      displayName: p.displayName,
      description: p.description,
    };
    this.s.groups.set(g.groupId, g);
    if (this.s.viaScim())
      this.s.recordScim(scimEvent(this.s.scimTenantId(), { kind: "createGroup", groupId: g.groupId }));
    else
      this.s.record(
        actor,
        this.s.mgmt(),
        "identitystore.amazonaws.com",
        "CreateGroup",
        // Since 2025 a group's displayName is omitted; the new group is known by the response's groupId.
        { identityStoreId: ic.identityStoreId, ...(g.description ? { description: HIDDEN } : {}) },
        groupResource(g.groupId),
        { identityStoreId: ic.identityStoreId, groupId: g.groupId },
      );
    return g;
  }
  deleteIdentityStoreGroup(actor: Actor | null, groupId: string): void {
    const ic = this.s.icOrThrow();
    if (!this.s.groups.has(groupId))
      throw new AwsError("ResourceNotFoundException", "GROUP not found.", 404, {
        ResourceType: "GROUP",
        ResourceId: groupId,
      });
    this.s.groups.delete(groupId);
    for (const m of [...(this.s.membershipsByGroup.get(groupId)?.values() ?? [])])
      this.s.unindexMembership(m);
    for (const a of [...(this.s.assignmentsByPrincipal.get(groupId)?.values() ?? [])])
      this.s.unindexAssignment(a);
    if (this.s.viaScim())
      this.s.recordScim(scimEvent(this.s.scimTenantId(), { kind: "deleteGroup", groupId }));
    else
      this.s.record(
        actor,
        this.s.mgmt(),
        "identitystore.amazonaws.com",
        "DeleteGroup",
        { identityStoreId: ic.identityStoreId, groupId },
        groupResource(groupId),
      );
  }
  findMembership(groupId: string, userId: string): Membership | undefined {
    for (const m of this.s.membershipsByGroup.get(groupId)?.values() ?? []) if (m.userId === userId) return m;
    return undefined;
  }
  createGroupMembership(actor: Actor | null, groupId: string, userId: string): Membership {
    const ic = this.s.icOrThrow();
    if (!this.s.groups.has(groupId))
      throw new AwsError("ResourceNotFoundException", "GROUP not found.", 404, {
        ResourceType: "GROUP",
        ResourceId: groupId,
      });
    if (!this.s.users.has(userId))
      throw new AwsError("ResourceNotFoundException", "USER not found.", 404, {
        ResourceType: "USER",
        ResourceId: userId,
      });
    if (this.findMembership(groupId, userId))
      throw new AwsError("ConflictException", "Member and Group relationship already exists.", 409, {
        Reason: "UNIQUENESS_CONSTRAINT_VIOLATION",
      });
    const m = { membershipId: storeId(this.s.rng), groupId, userId };
    this.s.indexMembership(m);
    if (this.s.viaScim())
      this.s.recordScim(
        scimEvent(this.s.scimTenantId(), {
          kind: "patchGroupMembers",
          groupId,
          op: "add",
          userIds: [userId],
        }),
      );
    else
      this.s.record(
        actor,
        this.s.mgmt(),
        "identitystore.amazonaws.com",
        "CreateGroupMembership",
        { identityStoreId: ic.identityStoreId, groupId, memberId: { userId } },
        [{ ResourceType: "AWS::IdentityStore::GroupMembership", ResourceName: m.membershipId }],
        { identityStoreId: ic.identityStoreId, membershipId: m.membershipId },
      );
    return m;
  }
  deleteGroupMembership(actor: Actor | null, membershipId: string): void {
    const ic = this.s.icOrThrow();
    const m = this.s.memberships.get(membershipId);
    if (!m)
      throw new AwsError("ResourceNotFoundException", "GROUP_MEMBERSHIP not found.", 404, {
        ResourceType: "GROUP_MEMBERSHIP",
        ResourceId: membershipId,
      });
    this.s.unindexMembership(m);
    // SCIM removes a member from a group (PatchGroup); it has no membership ids.
    if (this.s.viaScim())
      this.s.recordScim(
        scimEvent(this.s.scimTenantId(), {
          kind: "patchGroupMembers",
          groupId: m.groupId,
          op: "remove",
          userIds: [m.userId],
        }),
      );
    else
      this.s.record(
        actor,
        this.s.mgmt(),
        "identitystore.amazonaws.com",
        "DeleteGroupMembership",
        { identityStoreId: ic.identityStoreId, membershipId },
        [{ ResourceType: "AWS::IdentityStore::GroupMembership", ResourceName: membershipId }],
      );
  }
}
