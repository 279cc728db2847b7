// An example downstream consumer of grantline's change events (docs/events.md).
//
//   NATS_URL=nats://127.0.0.1:4222 node --import tsx examples/event-consumer.ts [--name my-app] [--type grant.*]
//   (with NATS_USER=subscriber NATS_PASSWORD=… where NATS has authorization)
//
// It creates (or reuses) a *durable* JetStream consumer on the events stream, so it resumes where it stopped
// after a restart and never misses an event while it is down (events are kept 7 days). Each event is a
// CloudEvents 1.0 JSON envelope, validated here with the schema grantline publishes (@grantline/contracts).
// Delivery is at-least-once: handle each event idempotently, keyed by its deterministic `id`.
import { parseArgs } from "node:util";
import { connect } from "@nats-io/transport-node";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { createSubjects, GrantlineEvent } from "@grantline/contracts";

const { values } = parseArgs({
  options: {
    name: { type: "string", default: "example-consumer" }, // durable name: one per application
    source: { type: "string", default: "*" }, // a source id, or * for all
    type: { type: "string", default: ">" }, // e.g. grant.created, grant.* or > for all
    "from-start": { type: "boolean", default: true }, // a new consumer replays what the stream still holds
  },
});

const subjects = createSubjects(process.env.GL_SUBJECT_PREFIX ?? "gl");
const stream = subjects.streams.events; // GL_EVENTS
const filter = `${subjects.prefix}.events.${values.source}.${values.type}`;

const nc = await connect({
  servers: (process.env.NATS_URL ?? "nats://127.0.0.1:4222").split(","),
  maxReconnectAttempts: -1,
  // grantline's read-only `subscriber` user where NATS has authorization (docs/events.md); anonymous otherwise.
  ...(process.env.NATS_USER ? { user: process.env.NATS_USER, pass: process.env.NATS_PASSWORD } : {}),
});
const jsm = await jetstreamManager(nc);
// Idempotent: adding a durable consumer with the same configuration again is a no-op.
await jsm.consumers.add(stream, {
  durable_name: values.name,
  filter_subject: filter,
  ack_policy: AckPolicy.Explicit,
  deliver_policy: values["from-start"] ? DeliverPolicy.All : DeliverPolicy.New,
  ack_wait: 30_000_000_000, // ns: redelivered if not acked within 30 s
  max_deliver: 10,
});
const consumer = await jetstream(nc).consumers.get(stream, values.name);
console.error(`consuming ${filter} from ${stream} as durable "${values.name}"`);

/** Your logic. Must be idempotent: the same event (same id) can arrive more than once. */
async function handle(e: GrantlineEvent): Promise<void> {
  const type = e.type.replace("dev.grantline.", "");
  const initial = e.grantlineinitialload ? " (initial load)" : "";
  switch (type) {
    case "grant.created":
    case "grant.revoked":
      console.log(
        `${e.time} ${type} ${e.data.principalType}/${e.data.principalId} -> ${e.data.entitlementId}${initial}`,
      );
      break;
    case "run.completed":
    case "run.failed":
      console.log(`${e.time} ${type} ${e.source} run ${e.grantlinerunid}`);
      break;
    default:
      console.log(`${e.time} ${type} ${e.subject ?? ""}${initial}`);
  }
}

const messages = await consumer.consume({ max_messages: 100 });
const stop = () => void messages.close();
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
for await (const m of messages) {
  const parsed = GrantlineEvent.safeParse(m.json());
  if (!parsed.success) {
    console.error(`skipping malformed event at stream seq ${m.seq}: ${parsed.error.message}`);
    m.term(); // never redeliver something that cannot be parsed
    continue;
  }
  try {
    await handle(parsed.data);
    m.ack();
  } catch (err) {
    console.error(`event ${parsed.data.id} failed, will be redelivered:`, err);
    m.nak(5_000);
  }
}
await nc.drain();
