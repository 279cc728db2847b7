// Test fixture (not exported from the package): a connection and a fresh set of in-memory streams under a
// unique subject prefix, so test files never see each other's messages.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { createSubjects, type Subjects } from "@grantline/contracts";
import { testInfra, uniqueName } from "@grantline/testing";
import { ensureStreams } from "./ensure-topology.ts";

export interface TestStreams {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  subjects: Subjects;
  /** Deletes the streams (and any `extraStreams`) and closes the connection. */
  close(extraStreams?: string[]): Promise<void>;
}

export async function openTestStreams(prefix: string): Promise<TestStreams> {
  const nc = await connect({ servers: testInfra().natsUrl });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const subjects = createSubjects(uniqueName(prefix));
  // Small hops: JetStream reserves max_bytes from the server's memory store at creation, per test.
  await ensureStreams(jsm, subjects, { storage: "memory", hopMaxBytes: 16 * 1024 ** 2 });
  return {
    nc,
    js,
    jsm,
    subjects,
    async close(extraStreams = []) {
      for (const s of [...Object.values(subjects.streams), ...extraStreams])
        await jsm.streams.delete(s).catch(() => undefined);
      await nc.close();
    },
  };
}
