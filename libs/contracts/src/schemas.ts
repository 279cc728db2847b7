import { z } from "zod";
import { GrantlineEvent } from "./events.ts";
import {
  CancelReply,
  CancelRequest,
  DeadLetter,
  PageRequest,
  PageResult,
  RefreshReply,
  RefreshRequest,
  ResultBatch,
  StatusReply,
  StatusRequest,
  SyncReply,
  SyncRequest,
} from "./messages.ts";
import {
  GrantReply,
  GrantRequest,
  GrantsReply,
  GrantsRequest,
  ProvisioningEventData,
  RevokeReply,
  RevokeRequest,
} from "./provisioning.ts";

/** Every message that crosses a boundary, by name: the source of the JSON Schema and AsyncAPI exports. */
export const MESSAGE_SCHEMAS = {
  PageRequest,
  PageResult,
  ResultBatch,
  DeadLetter,
  GrantlineEvent,
  SyncRequest,
  SyncReply,
  StatusRequest,
  StatusReply,
  CancelRequest,
  CancelReply,
  RefreshRequest,
  RefreshReply,
  GrantRequest,
  GrantReply,
  RevokeRequest,
  RevokeReply,
  GrantsRequest,
  GrantsReply,
  ProvisioningEventData,
} as const;

/** JSON Schema (draft 2020-12) of each message. */
export function messageJsonSchemas(): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(MESSAGE_SCHEMAS).map(([name, s]) => [
      name,
      z.toJSONSchema(s as z.ZodType, { io: "input", unrepresentable: "any" }),
    ]),
  );
}
