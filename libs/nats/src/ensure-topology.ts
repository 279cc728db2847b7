import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { ServiceName, type Subjects } from "@grantline/contracts";
import { permissionViolationIn } from "./nats-permission-check.ts";

export interface TopologyOptions {
  /** Storage of every stream. @default "file" */
  storage?: "file" | "memory";
  /** Replicas (3 on a production cluster). @default 1 */
  replicas?: number;
  /** Bytes a hop stream may hold before publishers are pushed back (`discard: new`). @default 1 GiB */
  hopMaxBytes?: number;
  /** How long change events stay replayable. @default 7 days */
  eventsMaxAgeMs?: number;
  /** How long dead letters are kept. @default 14 days */
  deadLetterMaxAgeMs?: number;
  /** Window in which a repeated msgID is dropped. @default 2 minutes */
  duplicateWindowMs?: number;
}

const DAY = 86_400_000;

/** The stream configurations grantline needs, derived from the subject prefix. */
export function streamConfigs(
  subjects: Subjects,
  o: TopologyOptions = {},
): Array<Partial<StreamConfig> & { name: string }> {
  const storage = o.storage === "memory" ? StorageType.Memory : StorageType.File;
  const common = {
    storage,
    num_replicas: o.replicas ?? 1,
    duplicate_window: nanos(o.duplicateWindowMs ?? 120_000),
    max_msg_size: 1024 * 1024,
  };
  // Hops are work queues that refuse new work when full: a slow writer pushes back on its producers
  // (they nak and retry) instead of the stream silently dropping the oldest unprocessed pages.
  const hop = (name: string, streamSubjects: string[], maxBytes = o.hopMaxBytes ?? 1024 ** 3) => ({
    ...common,
    name,
    subjects: streamSubjects,
    retention: RetentionPolicy.Workqueue,
    discard: DiscardPolicy.New,
    max_bytes: maxBytes,
    max_msgs: -1,
  });
  return [
    // Exactly the fetcher consumers' filters (one per AWS service), not `page.req.>`: a request for a service no
    // consumer reads (a typo, an older or newer release's service) is refused at publish instead of sitting in
    // the work queue forever, counted against its limits. The mapper and writer read all of their streams.
    hop(
      subjects.streams.pageRequests,
      ServiceName.options.map((service) => subjects.pageRequestsFor(service)),
    ),
    hop(subjects.streams.pageResults, [subjects.all.pageResults]),
    // Two lanes, each the filter of one writer consumer (WRITER_DURABLES): batches that queue tasks are not
    // read behind the bulk.
    hop(subjects.streams.batches, [subjects.all.batches, subjects.all.chainBatches]),
    // AWS changes to make and their answers: a few hundred small messages at most (requests are bounded by
    // people asking), so it reserves far less than the page hops.
    hop(
      subjects.streams.provisioning,
      [subjects.all.provisioningExec, subjects.all.provisioningDone],
      Math.min(o.hopMaxBytes ?? 1024 ** 3, 64 * 1024 ** 2),
    ),
    {
      ...common,
      name: subjects.streams.deadLetters,
      subjects: [subjects.all.deadLetters],
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_age: nanos(o.deadLetterMaxAgeMs ?? 14 * DAY),
    },
    {
      ...common,
      name: subjects.streams.events,
      subjects: [subjects.all.events],
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_age: nanos(o.eventsMaxAgeMs ?? 7 * DAY),
    },
  ];
}

/** Thrown when the server accepted a config but returned something else (2.9 silently drops unknown fields). */
export class TopologyMismatchError extends Error {
  constructor(what: string, field: string, wanted: unknown, got: unknown) {
    super(`${what}: server returned ${field}=${JSON.stringify(got)}, expected ${JSON.stringify(wanted)}`);
    this.name = "TopologyMismatchError";
  }
}

function verify(what: string, wanted: Record<string, unknown>, got: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(wanted)) {
    if (k === "name" || k === "durable_name" || v === undefined) continue;
    const g = got[k];
    if (JSON.stringify(g) !== JSON.stringify(v)) throw new TopologyMismatchError(what, k, v, g);
  }
}

/** How a service that may not create streams waits for the one that may (the scheduler). */
export interface StreamWait {
  /** Told what is awaited (readiness shows it); called once per stream awaited. */
  onWaiting(reason: string): void;
  /** @default 1000 */
  pollMs?: number;
}

async function streamInfo(jsm: JetStreamManager, name: string) {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (permissionViolationIn(err)) throw err;
    return null;
  }
}

function matches(cfg: Record<string, unknown>, got: Record<string, unknown>): boolean {
  try {
    verify("", cfg, got);
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates or updates every stream whose configuration differs, then checks the server kept each field we set.
 * Idempotent; a stream that is already as configured is only looked up, so a user with no right to create or
 * update streams (every service user but the scheduler's) starts as long as the streams are current. With
 * `wait`, such a user waits for the scheduler to create or update them instead of failing.
 */
export async function ensureStreams(
  jsm: JetStreamManager,
  subjects: Subjects,
  o: TopologyOptions = {},
  wait?: StreamWait,
): Promise<void> {
  for (const cfg of streamConfigs(subjects, o)) {
    let waiting = false;
    for (;;) {
      const info = await streamInfo(jsm, cfg.name);
      if (info && matches(cfg, info.config as unknown as Record<string, unknown>)) break;
      try {
        const res = info ? await jsm.streams.update(cfg.name, cfg) : await jsm.streams.add(cfg);
        verify(`stream ${cfg.name}`, cfg, res.config as unknown as Record<string, unknown>);
        break;
      } catch (err) {
        if (!wait || !/\.STREAM\.(CREATE|UPDATE)\./.test(permissionViolationIn(err)?.subject ?? ""))
          throw err;
        if (!waiting)
          wait.onWaiting(
            `waiting for the scheduler to ${info ? "update" : "create"} stream ${cfg.name} (this NATS user may not)`,
          );
        waiting = true;
        await new Promise((r) => setTimeout(r, wait.pollMs ?? 1000));
      }
    }
  }
}

export interface ConsumerSpec {
  stream: string;
  durable: string;
  filterSubject: string;
  /** @default 30000 */
  ackWaitMs?: number;
  /** Unacked messages across all replicas of this consumer: bounds memory and in-flight work. @default 256 */
  maxAckPending?: number;
}

/**
 * Creates or updates a durable pull consumer. `max_deliver` stays unlimited on the server: our consume loop
 * counts deliveries and dead-letters past its own cap, because on a WorkQueue stream a message that hits the
 * server's cap is neither redelivered nor removed (nats-server #6905).
 */
export async function ensureConsumer(jsm: JetStreamManager, spec: ConsumerSpec): Promise<void> {
  const cfg = {
    durable_name: spec.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: spec.filterSubject,
    ack_wait: nanos(spec.ackWaitMs ?? 30_000),
    max_ack_pending: spec.maxAckPending ?? 256,
    max_deliver: -1,
  };
  let exists = true;
  try {
    await jsm.consumers.info(spec.stream, spec.durable);
  } catch {
    exists = false;
  }
  const info = exists
    ? await jsm.consumers.update(spec.stream, spec.durable, cfg)
    : await jsm.consumers.add(spec.stream, cfg);
  const { durable_name: _d, deliver_policy: _p, ...checked } = cfg;
  verify(
    `consumer ${spec.stream}/${spec.durable}`,
    checked,
    info.config as unknown as Record<string, unknown>,
  );
}

/**
 * Deletes a durable consumer that a release no longer uses, if it exists; returns whether it did. Needed before
 * creating consumers whose filters overlap the old one's, which a WorkQueue stream refuses. Its unacknowledged
 * messages stay in the stream and go to the new consumers.
 */
export async function retireConsumer(
  jsm: JetStreamManager,
  stream: string,
  durable: string,
): Promise<boolean> {
  try {
    await jsm.consumers.info(stream, durable);
  } catch {
    return false;
  }
  try {
    return await jsm.consumers.delete(stream, durable);
  } catch (err) {
    // Another replica retired it between our look and our delete.
    if (
      (await jsm.consumers.info(stream, durable).then(
        () => true,
        () => false,
      )) === false
    )
      return false;
    throw err;
  }
}
