// A process the compact-outbox crash test SIGKILLs (compact-outbox-crash.test.ts). Reads its work as JSON on
// stdin and prints one line when it reaches the point the test kills it at:
//   apply   — applies the batches (each commits its compact outbox rows), prints "committed", and waits: killed
//             between the commit and any publish.
//   publish — runs the outbox publisher against JetStream, letting only the first `publishLimit` messages
//             through; once those are acked it prints "partial" while the rest never complete: killed part-way
//             through a compact row's events, before any row is marked published.
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { createSubjects, type ResultBatch } from "@grantline/contracts";
import { applyBatch, createDb, startOutboxPublisher } from "@grantline/db";
import { createOutboxSink } from "@grantline/nats";

export interface CrashWork {
  mode: "apply" | "publish";
  databaseUrl: string;
  natsUrl: string;
  subjectPrefix: string;
  batches?: ResultBatch[];
  publishLimit?: number;
}

async function readStdin(): Promise<string> {
  let text = "";
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
}

const work = JSON.parse(await readStdin()) as CrashWork;
const db = createDb({ url: work.databaseUrl, poolSize: 2 });
const forever = new Promise<never>(() => undefined);

if (work.mode === "apply") {
  const subjects = createSubjects(work.subjectPrefix);
  for (const b of work.batches ?? []) {
    const r = await applyBatch(db, subjects, b);
    if (!r.applied) throw new Error(`batch ${b.taskId} was not applied`);
  }
  console.log("committed");
} else {
  const nc = await connect({ servers: work.natsUrl });
  const sink = createOutboxSink(jetstream(nc));
  const limit = work.publishLimit ?? 0;
  let calls = 0;
  const through: Array<Promise<void>> = [];
  startOutboxPublisher({
    db,
    pollMs: 60_000,
    sink: {
      publish(subject, payload, msgID, headers) {
        if (++calls > limit) return forever;
        const p = sink.publish(subject, payload, msgID, headers);
        through.push(p);
        if (through.length === limit) void Promise.all(through).then(() => console.log("partial"));
        return p;
      },
    },
  });
}
// Wait for the SIGKILL.
setInterval(() => undefined, 60_000);
