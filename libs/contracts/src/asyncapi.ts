import { EVENT_TYPES } from "./events.ts";
import { messageJsonSchemas } from "./schemas.ts";
import { createSubjects } from "./subjects.ts";

/** An AsyncAPI 3.0 document of every subject grantline uses, generated from the same zod schemas. */
export function asyncApiDocument(prefix = "gl"): Record<string, unknown> {
  const s = createSubjects(prefix);
  const schemas = messageJsonSchemas();
  const ref = (m: string) => ({ $ref: `#/components/messages/${m}` });
  const channels: Record<string, unknown> = {
    pageRequests: {
      address: `${prefix}.page.req.{source}.{service}`,
      description: `Page requests (stream ${s.streams.pageRequests}, WorkQueue). Scheduler and writer outbox → fetcher.`,
      messages: { PageRequest: ref("PageRequest") },
    },
    pageResults: {
      address: `${prefix}.page.res.{source}.{service}`,
      description: `Raw AWS pages (stream ${s.streams.pageResults}, WorkQueue). Fetcher → mapper.`,
      messages: { PageResult: ref("PageResult") },
    },
    batches: {
      address: `${prefix}.batch.{source}`,
      description: `Result batches that queue no tasks (stream ${s.streams.batches}, WorkQueue; the writer's bulk lane). Mapper → writer.`,
      messages: { ResultBatch: ref("ResultBatch") },
    },
    chainBatches: {
      address: `${prefix}.chain.{source}`,
      description: `Result batches that queue tasks — a chain's next page, the details of what a page listed — and every part of such a page (stream ${s.streams.batches}, WorkQueue; the writer's chain lane, consumed apart so they never wait behind the bulk). Mapper → writer.`,
      messages: { ResultBatch: ref("ResultBatch") },
    },
    deadLetters: {
      address: `${prefix}.dlq.{stage}`,
      description: `Messages a stage could never process, with the reason and the original payload (stream ${s.streams.deadLetters}).`,
      messages: { DeadLetter: ref("DeadLetter") },
    },
    events: {
      address: `${prefix}.events.{source}.{type}`,
      description: `Change events, CloudEvents 1.0 JSON (stream ${s.streams.events}, Limits, replayable). type is one of: ${EVENT_TYPES.join(", ")}. Delivery is at least once and not ordered; every event carries sequence (CloudEvents sequence extension), a per-subject version increasing in commit order across runs of every kind (full, refresh): per subject, the event with the greatest sequence is the current state and older ones are dropped. run.started and run.completed data carry kind (full | refresh). provisioning.* events carry ProvisioningEventData; their subject is provisioning/<requestId> and grantlinerunid the request id.`,
      messages: { GrantlineEvent: ref("GrantlineEvent") },
    },
    ctlSync: {
      address: `${prefix}.ctl.sync.{user}`,
      description:
        "Start a run (request/reply). user is the sending NATS user: each operator user may publish only on its own subjects (docs/deploying.md).",
      messages: { SyncRequest: ref("SyncRequest"), SyncReply: ref("SyncReply") },
    },
    ctlStatus: {
      address: `${prefix}.ctl.status.{user}`,
      description: "Run status (request/reply).",
      messages: { StatusRequest: ref("StatusRequest"), StatusReply: ref("StatusReply") },
    },
    ctlCancel: {
      address: `${prefix}.ctl.cancel.{user}`,
      description:
        "Cancel a running run (request/reply): its pending tasks settle as cancelled and its queued work is purged.",
      messages: { CancelRequest: ref("CancelRequest"), CancelReply: ref("CancelReply") },
    },
    ctlRefresh: {
      address: `${prefix}.ctl.refresh.{user}`,
      description:
        "Targeted refresh of one synced object (request/reply): queues its refreshes and starts a refresh run unless a run of the source is active.",
      messages: { RefreshRequest: ref("RefreshRequest"), RefreshReply: ref("RefreshReply") },
    },
    ctlGrant: {
      address: `${prefix}.ctl.grant.{user}`,
      description:
        "Request access (request/reply): an Identity Center account assignment, an Identity Store or IAM group membership, optionally time-bound. Validated against the synced data; idempotent by request id; audited (docs/provisioning-requests.md). provisioning.* events (data ProvisioningEventData) follow it on the events channel.",
      messages: { GrantRequest: ref("GrantRequest"), GrantReply: ref("GrantReply") },
    },
    ctlRevoke: {
      address: `${prefix}.ctl.revoke.{user}`,
      description:
        "End access (request/reply): every holder of the grant, or one grant request's hold; the access goes when no holder remains.",
      messages: { RevokeRequest: ref("RevokeRequest"), RevokeReply: ref("RevokeReply") },
    },
    ctlGrants: {
      address: `${prefix}.ctl.grants.{user}`,
      description: "Provisioning requests with their holders and expiries (request/reply).",
      messages: { GrantsRequest: ref("GrantsRequest"), GrantsReply: ref("GrantsReply") },
    },
  };
  return {
    asyncapi: "3.0.0",
    info: {
      title: "grantline",
      version: "1.0.0",
      description:
        "Subjects of the grantline pipeline and its change-event feed. Generated from libs/contracts — do not edit.",
    },
    defaultContentType: "application/json",
    channels,
    components: {
      schemas,
      messages: Object.fromEntries(
        Object.keys(schemas).map((n) => [n, { name: n, payload: { $ref: `#/components/schemas/${n}` } }]),
      ),
    },
  };
}
