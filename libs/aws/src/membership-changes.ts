import { AddUserToGroupCommand, RemoveUserFromGroupCommand } from "@aws-sdk/client-iam";
import {
  CreateGroupMembershipCommand,
  DeleteGroupMembershipCommand,
  GetGroupMembershipIdCommand,
} from "@aws-sdk/client-identitystore";
import type { AccessChangeOutcome } from "@grantline/contracts";
import type { AccessChange } from "./access-change.ts";
import { awsErrorCode } from "./classify-aws-error.ts";
import type { CommandCtor } from "./operations.ts";

export type Direction = "grant" | "revoke";
/** An attempt's result: a final outcome, or `undefined` to retry after a backoff. */
export type Attempt = Promise<AccessChangeOutcome | undefined>;

/** The executor's calls for one change: budgeted, in the right account, errors judged as for every change. */
export interface ChangeCalls {
  send(operation: string, command: CommandCtor, input: Record<string, unknown>): Promise<unknown>;
  /** A final refusal, `undefined` to retry (conflicts, throttling), or it throws. */
  judge(err: unknown, what: string): AccessChangeOutcome | undefined;
  /** Runs `attempt` until it has an outcome, with bounded backoff. */
  retrying(what: string, attempt: () => Attempt): Promise<AccessChangeOutcome>;
}

export const cmd = (c: new (input: never) => object): CommandCtor => c as unknown as CommandCtor;
export const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** An Identity Store group membership: "already a member" and "not a member" are successes with a note. */
export function identityStoreMembership(
  ch: Extract<AccessChange["change"], { kind: "group-membership" }>,
  dir: Direction,
  c: ChangeCalls,
): Promise<AccessChangeOutcome> {
  const member = {
    IdentityStoreId: ch.identityStoreId,
    GroupId: ch.groupId,
    MemberId: { UserId: ch.userId },
  };
  const what = `identitystore ${dir === "grant" ? "CreateGroupMembership" : "DeleteGroupMembership"} (group ${ch.groupId}, user ${ch.userId})`;
  if (dir === "grant")
    return c.retrying(what, async () => {
      try {
        await c.send("CreateGroupMembership", cmd(CreateGroupMembershipCommand), member);
        return { outcome: "succeeded" };
      } catch (err) {
        // The other ConflictException reason, CONCURRENT_MODIFICATION, is retried.
        if ((err as { Reason?: unknown }).Reason === "UNIQUENESS_CONSTRAINT_VIOLATION")
          return { outcome: "succeeded", note: `already a member: ${message(err)}` };
        return c.judge(err, what);
      }
    });
  return c.retrying(what, async () => {
    try {
      const id = (await c.send("GetGroupMembershipId", cmd(GetGroupMembershipIdCommand), member)) as {
        MembershipId?: string;
      };
      await c.send("DeleteGroupMembership", cmd(DeleteGroupMembershipCommand), {
        IdentityStoreId: ch.identityStoreId,
        MembershipId: id.MembershipId,
      });
      return { outcome: "succeeded" };
    } catch (err) {
      // No membership (or no such user or group): the user is not a member, which is what a revoke wants.
      if (awsErrorCode(err) === "ResourceNotFoundException")
        return { outcome: "succeeded", note: `not a member: ${message(err)}` };
      return c.judge(err, what);
    }
  });
}

/** An IAM group membership, in the account of the group. */
export function iamGroupMembership(
  ch: Extract<AccessChange["change"], { kind: "iam-group-membership" }>,
  dir: Direction,
  c: ChangeCalls,
): Promise<AccessChangeOutcome> {
  const input = { GroupName: ch.groupName, UserName: ch.userName };
  const op = dir === "grant" ? "AddUserToGroup" : "RemoveUserFromGroup";
  const what = `iam ${op} (${ch.userName} → ${ch.groupName}, account ${ch.accountId})`;
  return c.retrying(what, async () => {
    try {
      // AddUserToGroup of a member succeeds in AWS: a grant is idempotent as it is.
      if (dir === "grant") await c.send(op, cmd(AddUserToGroupCommand), input);
      else await c.send(op, cmd(RemoveUserFromGroupCommand), input);
      return { outcome: "succeeded" };
    } catch (err) {
      // NoSuchEntity names the user, the group or the membership: in each case the user is not a member.
      if (dir === "revoke" && awsErrorCode(err) === "NoSuchEntity")
        return { outcome: "succeeded", note: `not a member: ${message(err)}` };
      return c.judge(err, what);
    }
  });
}
