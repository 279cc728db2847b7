import {
  createSubjects,
  fetcherDurable,
  LEGACY_FETCHER_DURABLE,
  pipelineConsumers,
  PROVISIONING_DURABLES,
  ServiceName,
  WRITER_DURABLES,
  type Subjects,
} from "@grantline/contracts";
import { blobBucketName } from "./blob-store.ts";

/** The NATS users of a deployment: one per service, the operator (CLI, control plane) and read-only consumers. */
export const NATS_ROLES = ["scheduler", "fetcher", "mapper", "writer", "operator", "subscriber"] as const;
export type NatsRole = (typeof NATS_ROLES)[number];

/** One user's allow-lists, in nats-server's terms (everything not allowed is refused by the server). */
export interface NatsPermissions {
  publish: string[];
  subscribe: string[];
  /** May answer the requests it receives (the scheduler's control replies) without publishing on `_INBOX.>`. */
  allowResponses?: boolean;
}

/**
 * The inbox prefix of a grantline user (another operator user's is `_INBOX_<name>`). Replies and pull-consumer deliveries go to the requester's inbox; with
 * one `_INBOX.>` for everyone, any user allowed to subscribe there could read the batches delivered to the
 * writer. Each grantline user gets its own prefix; `subscriber` keeps the standard `_INBOX` so any NATS client works.
 */
export function inboxPrefixOf(user: NatsRole | (string & {})): string {
  return user === "subscriber" ? "_INBOX" : `_INBOX_${user}`;
}

const api = (...tokens: string[]) => `$JS.API.${tokens.join(".")}`;

/** What pulling from a durable consumer takes: look it up, create or update it, fetch, acknowledge. */
function consume(stream: string, durable: string): string[] {
  return [
    api("CONSUMER.INFO", stream, durable),
    // Servers ≥ 2.9 take CREATE.<stream>.<name>[.<filter>]; older clients use DURABLE.CREATE.
    api("CONSUMER.CREATE", stream, durable),
    api("CONSUMER.CREATE", stream, durable, ">"),
    api("CONSUMER.DURABLE.CREATE", stream, durable),
    api("CONSUMER.MSG.NEXT", stream, durable),
    `$JS.ACK.${stream}.${durable}.>`,
  ];
}

/**
 * The object store that carries bodies over the inline limit (blob-store.ts): create the bucket if missing, put
 * (chunks, meta, purge of an overwritten object's chunks), get (meta by subject, an ordered push consumer with
 * flow control).
 */
function blobs(subjects: Subjects): string[] {
  const bucket = blobBucketName(subjects);
  const stream = `OBJ_${bucket}`;
  return [
    api("STREAM.INFO", stream),
    api("STREAM.CREATE", stream),
    api("STREAM.MSG.GET", stream),
    api("DIRECT.GET", stream, ">"),
    api("STREAM.PURGE", stream),
    api("CONSUMER.CREATE", stream),
    api("CONSUMER.CREATE", stream, ">"),
    api("CONSUMER.DELETE", stream, ">"),
    `$O.${bucket}.>`,
    `$JS.FC.${stream}.>`,
  ];
}

/** Reading change events through consumers of the events stream (durable or ordered), never writing them. */
function readEvents(subjects: Subjects): string[] {
  const events = subjects.streams.events;
  return [
    api("INFO"),
    api("STREAM.INFO", events),
    api("CONSUMER.CREATE", events),
    api("CONSUMER.CREATE", events, ">"),
    api("CONSUMER.DURABLE.CREATE", events, "*"),
    api("CONSUMER.INFO", events, "*"),
    api("CONSUMER.MSG.NEXT", events, "*"),
    `$JS.ACK.${events}.>`,
    `$JS.FC.${events}.>`,
  ];
}

/**
 * Every grantline user's permissions for subject prefix `prefix`, derived from the same subject and stream
 * names the services use, so the server's configuration (deploy/nats/nats.conf is rendered from this) cannot
 * drift from the code. Only the scheduler creates and updates the streams; the other services look them up and
 * wait for them. Only the mapper publishes batches, only the fetcher page results, only operator users control
 * requests (on their own `<prefix>.ctl.*.<user>`), and `subscriber` reads events and nothing else.
 */
export function natsPermissions(prefix = "gl"): Record<NatsRole, NatsPermissions> {
  const s = createSubjects(prefix);
  const { streams } = s;
  const allStreams = Object.values(streams);
  const service = (role: NatsRole, publish: string[], subscribe: string[] = []): NatsPermissions => ({
    publish: [api("INFO"), ...allStreams.map((n) => api("STREAM.INFO", n)), ...publish],
    subscribe: [`${inboxPrefixOf(role)}.>`, ...subscribe],
  });
  const fetcherConsumers = ServiceName.options.map((svc) => fetcherDurable(svc));
  const runCancelled = s.eventsOfType("run.cancelled");
  return {
    scheduler: {
      ...service("scheduler", [
        ...allStreams.flatMap((n) => [api("STREAM.CREATE", n), api("STREAM.UPDATE", n)]),
        // Cancelling a run purges the source's queued work (purge-source-work.ts).
        ...[streams.pageRequests, streams.pageResults, streams.batches].map((n) => api("STREAM.PURGE", n)),
        // Stalled-task recovery looks for a task's request in its fetcher queue (queued-tasks.ts).
        api("STREAM.MSG.GET", streams.pageRequests),
        // Lag and idleness gauges read the pipeline's consumers.
        ...[...pipelineConsumers(s), { stream: streams.deadLetters, durable: "writer-dlq" }].map((c) =>
          api("CONSUMER.INFO", c.stream, c.durable),
        ),
        // Its outbox: root page requests and run events.
        s.all.pageRequests,
        s.all.events,
        // Provisioning: AWS changes out to the fetcher, their answers back.
        s.all.provisioningExec,
        ...consume(streams.provisioning, PROVISIONING_DURABLES.scheduler),
        s.deadLetter("scheduler"),
      ]),
      subscribe: [`${inboxPrefixOf("scheduler")}.>`, `${prefix}.ctl.*.*`],
      allowResponses: true,
    },
    fetcher: service(
      "fetcher",
      [
        ...fetcherConsumers.flatMap((d) => consume(streams.pageRequests, d)),
        // An older release's all-services consumer is retired at start (fetch-consumers.ts).
        api("CONSUMER.INFO", streams.pageRequests, LEGACY_FETCHER_DURABLE),
        api("CONSUMER.DELETE", streams.pageRequests, LEGACY_FETCHER_DURABLE),
        s.all.pageResults,
        ...consume(streams.provisioning, PROVISIONING_DURABLES.fetcher),
        s.all.provisioningDone,
        s.deadLetter("fetcher"),
        ...blobs(s),
      ],
      [runCancelled],
    ),
    mapper: service("mapper", [
      ...consume(streams.pageResults, "mapper"),
      s.all.batches,
      s.all.chainBatches,
      s.deadLetter("mapper"),
      ...blobs(s),
    ]),
    writer: service("writer", [
      ...consume(streams.batches, WRITER_DURABLES.bulk),
      ...consume(streams.batches, WRITER_DURABLES.chain),
      ...consume(streams.deadLetters, "writer-dlq"),
      // Its outbox: child page requests and change events.
      s.all.pageRequests,
      s.all.events,
      s.deadLetter("writer"),
      ...blobs(s),
    ]),
    operator: {
      publish: [
        s.ctlBy("operator"),
        ...readEvents(s),
        // `grantline events tail` removes its ordered consumer when it stops.
        api("CONSUMER.DELETE", streams.events, "*"),
      ],
      subscribe: [`${inboxPrefixOf("operator")}.>`, s.all.events],
    },
    subscriber: { publish: readEvents(s), subscribe: [`${inboxPrefixOf("subscriber")}.>`, s.all.events] },
  };
}
