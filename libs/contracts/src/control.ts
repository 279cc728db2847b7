import type { z } from "zod";
import {
  CancelReply,
  CancelRequest,
  RefreshReply,
  RefreshRequest,
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
  RevokeReply,
  RevokeRequest,
} from "./provisioning.ts";
import type { CtlVerb } from "./subjects.ts";

/**
 * The request and reply schema of every control verb. Typed as a total map over `CtlVerb`, so a verb added to
 * `CTL_VERBS` without its schemas fails typecheck here, and one without a handler fails it in the scheduler.
 */
export const CTL_SCHEMAS = {
  sync: { request: SyncRequest, reply: SyncReply },
  status: { request: StatusRequest, reply: StatusReply },
  cancel: { request: CancelRequest, reply: CancelReply },
  refresh: { request: RefreshRequest, reply: RefreshReply },
  grant: { request: GrantRequest, reply: GrantReply },
  revoke: { request: RevokeRequest, reply: RevokeReply },
  grants: { request: GrantsRequest, reply: GrantsReply },
} as const satisfies { [V in CtlVerb]: { request: z.ZodType; reply: z.ZodType } };

/** The parsed request of a verb (defaults applied). */
export type CtlRequest<V extends CtlVerb> = z.output<(typeof CTL_SCHEMAS)[V]["request"]>;
/** The reply of a verb: `{ ok: true, … }` or `{ ok: false, error }`. */
export type CtlReply<V extends CtlVerb> = z.output<(typeof CTL_SCHEMAS)[V]["reply"]>;
