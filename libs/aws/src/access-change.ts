import { z } from "zod";

const AccountId = z.string().regex(/^\d{12}$/);

/** One access to grant or revoke in AWS: what the executor changes, and through which source's credentials. */
export const AccessChange = z.discriminatedUnion("kind", [
  /** An Identity Center account assignment (asynchronous in AWS: created/deleted, then polled to a final state). */
  z.object({
    kind: z.literal("account-assignment"),
    sourceId: z.string().min(1),
    instanceArn: z.string().min(1),
    accountId: AccountId,
    permissionSetArn: z.string().min(1),
    principalType: z.enum(["USER", "GROUP"]),
    principalId: z.string().min(1),
  }),
  /** An Identity Store user's membership of a group. */
  z.object({
    kind: z.literal("identity-store-membership"),
    sourceId: z.string().min(1),
    identityStoreId: z.string().min(1),
    groupId: z.string().min(1),
    userId: z.string().min(1),
  }),
  /** An IAM user's membership of an IAM group, in the account that holds both (null: the source's own). */
  z.object({
    kind: z.literal("iam-group-membership"),
    sourceId: z.string().min(1),
    accountId: AccountId.nullable(),
    groupName: z.string().min(1),
    userName: z.string().min(1),
  }),
]);
export type AccessChange = z.infer<typeof AccessChange>;
