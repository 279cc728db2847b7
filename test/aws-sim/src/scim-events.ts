/**
 * CloudTrail records of Identity Center's SCIM endpoint (eventSource identitystore-scim.amazonaws.com), as AWS logs
 * them (userguide scim-logging-using-cloudtrail): the caller is the IdP's bearer token (`WebIdentityUser`), the request
 * is the SCIM HTTP body with personal data hidden, and the resource's id is the SCIM path parameter or the response's
 * `id`. The path-parameter member names (`userId`, `groupId`) are the sim's reading of AWS's examples. SCIM's PutUser (a full replace) is not produced: the sim's
 * user changes are PatchUser (`active`).
 */
export const SCIM_SOURCE = "identitystore-scim.amazonaws.com";
export const HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS";
const USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

export type ScimCall =
  | { kind: "createUser"; userId?: string }
  | { kind: "patchUser"; userId: string; active: boolean }
  | { kind: "deleteUser"; userId: string }
  | { kind: "createGroup"; groupId?: string }
  | { kind: "patchGroupMembers"; groupId: string; op: "add" | "remove"; userIds: string[] }
  | { kind: "deleteGroup"; groupId: string };
export interface ScimEvent {
  eventName: string;
  requestParameters: Record<string, unknown>;
  responseElements: Record<string, unknown> | null;
  resources: Array<{ ResourceType: string; ResourceName: string }>;
}

/** SCIM's tenant id is per Identity Center instance; the sim derives it from the identity store id. */
export const scimTenantId = (identityStoreId: string): string => `scim-${identityStoreId.slice(2)}`;
export const scimIdentity = (accountId: string): Record<string, unknown> => ({
  type: "WebIdentityUser",
  accountId,
  accessKeyId: "",
});

type Resources = Array<{ ResourceType: string; ResourceName: string }>;
export const userResource = (id: string): Resources => [
  { ResourceType: "AWS::IdentityStore::User", ResourceName: id },
];
export const groupResource = (id: string): Resources => [
  { ResourceType: "AWS::IdentityStore::Group", ResourceName: id },
];
const hiddenUser = (active: boolean) => ({
  schemas: [USER_SCHEMA],
  userName: HIDDEN,
  displayName: HIDDEN,
  name: { familyName: HIDDEN, givenName: HIDDEN },
  active,
});
const meta = (resourceType: "User" | "Group") => ({ resourceType });

export function scimEvent(tenantId: string, c: ScimCall): ScimEvent {
  switch (c.kind) {
    case "createUser":
      return {
        eventName: "CreateUser",
        requestParameters: { tenantId, httpBody: hiddenUser(true) },
        responseElements: c.userId ? { ...hiddenUser(true), id: c.userId, meta: meta("User") } : null,
        resources: c.userId ? userResource(c.userId) : [],
      };
    case "patchUser":
      return {
        eventName: "PatchUser",
        requestParameters: {
          tenantId,
          userId: c.userId,
          httpBody: {
            schemas: [PATCH_SCHEMA],
            Operations: [{ op: "replace", path: "active", value: c.active }],
          },
        },
        responseElements: null,
        resources: userResource(c.userId),
      };
    case "deleteUser":
      return {
        eventName: "DeleteUser",
        requestParameters: { tenantId, userId: c.userId },
        responseElements: null,
        resources: userResource(c.userId),
      };
    case "createGroup":
      // Since 2025 a group's displayName is omitted from Identity Center events.
      return {
        eventName: "CreateGroup",
        requestParameters: { tenantId, httpBody: { schemas: [GROUP_SCHEMA] } },
        responseElements: c.groupId ? { schemas: [GROUP_SCHEMA], id: c.groupId, meta: meta("Group") } : null,
        resources: c.groupId ? groupResource(c.groupId) : [],
      };
    case "patchGroupMembers":
      return {
        eventName: "PatchGroup",
        requestParameters: {
          tenantId,
          groupId: c.groupId,
          httpBody: {
            schemas: [PATCH_SCHEMA],
            Operations: [
              c.op === "add"
                ? { op: "add", path: "members", value: c.userIds.map((value) => ({ value })) }
                : { op: "remove", path: `members[${c.userIds.map((v) => `value eq "${v}"`).join(" or ")}]` },
            ],
          },
        },
        responseElements: null,
        resources: groupResource(c.groupId),
      };
    case "deleteGroup":
      return {
        eventName: "DeleteGroup",
        requestParameters: { tenantId, groupId: c.groupId },
        responseElements: null,
        resources: groupResource(c.groupId),
      };
  }
}
