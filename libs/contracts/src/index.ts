/**
 * The vocabulary every grantline service shares: subject names, message and event schemas (zod) with their
 * inferred types, the closed vocabulary of the rows (resource and principal types, entitlement slugs), the catalog
 * of page operations, the two error classes that decide a message's fate, and deterministic ids.
 *
 * @example
 * const subjects = createSubjects("gl");
 * const req = parseOrThrow(PageRequest, msg.json(), "page request"); // throws SchemaError → dead letter
 * await js.publish(subjects.pageRequest(req.sourceId, req.service), JSON.stringify(req), { msgID: req.taskId });
 */
export {
  createSubjects,
  fetcherDurable,
  LEGACY_FETCHER_DURABLE,
  PROVISIONING_DURABLES,
  pipelineConsumers,
  WRITER_DURABLES,
  CTL_VERBS,
  ANONYMOUS_CTL_USER,
} from "./subjects.ts";
export type { BatchLane, Subjects, Stage, CtlVerb } from "./subjects.ts";
export { PermanentError, RetryableError, SchemaError } from "./errors.ts";
export { parseOrThrow } from "./parse.ts";
export {
  FEED_EVENT_SOURCES,
  FeedEventSource,
  FeedSelector,
  WRITE_EVENTS,
  FeedId,
  feedIdOf,
  ChangeRecord,
  RefreshIntent,
  ObjectSweep,
  RecordOutcome,
  FeedPage,
} from "./feeds.ts";
export { FeedPolls, FeedPollOutcome, feedPollsRequest, expandFeedPolls } from "./feed-polls.ts";
export type { RefreshIntentKind } from "./feeds.ts";
export { canonicalJson, deterministicId } from "./ids.ts";
export { taskIdFor, pageRequest } from "./task-id.ts";
export {
  SourceId,
  ServiceName,
  PageRequest,
  PageResult,
  Resource,
  Entitlement,
  Grant,
  ResultBatch,
  DeadLetter,
  SyncRequest,
  SyncReply,
  RunStatus,
  RunSummary,
  StatusRequest,
  StatusReply,
  FeedStatus,
  CancelRequest,
  RefreshReply,
  RefreshRequest,
  CancelReply,
} from "./messages.ts";
export {
  STAGES,
  DeadLetterStage,
  ResourceType,
  PrincipalType,
  FixedEntitlementSlug,
  EXPANDING_SLUGS,
  PermissionSetSlug,
  EntitlementSlug,
  ACCOUNT_PERMISSION_SET_ENTITLEMENT,
  permissionSetSlug,
} from "./vocabulary.ts";
export { OPERATIONS, Operation, operationKey, isOperation } from "./operation.ts";
export type { AwsOperation, OperationName, ServiceOf } from "./operation.ts";
export { CTL_SCHEMAS } from "./control.ts";
export {
  AccessChangeOutcome,
  GrantHolder,
  GrantReply,
  GrantRequest,
  GrantsReply,
  GrantsRequest,
  MAX_GRANT_SECONDS,
  ProvisioningCall,
  ProvisioningDone,
  ProvisioningExec,
  ProvisioningEventData,
  ProvisioningKind,
  ProvisioningRefusal,
  ProvisioningRequestId,
  ProvisioningRequestSummary,
  ProvisioningState,
  ProvisioningTarget,
  RevokeReply,
  RevokeRequest,
} from "./provisioning.ts";
export type { CtlRequest, CtlReply } from "./control.ts";
export {
  EVENT_TYPES,
  EventType,
  GrantlineEvent,
  RunKind,
  RunStartedData,
  SEQUENCE_DIGITS,
  cloudEventType,
} from "./events.ts";
export { MESSAGE_SCHEMAS, messageJsonSchemas } from "./schemas.ts";
export { asyncApiDocument } from "./asyncapi.ts";
