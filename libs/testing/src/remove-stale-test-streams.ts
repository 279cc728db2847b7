import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";

/**
 * Streams (and object stores) of earlier test runs that never got to clean up: a run killed half-way, a
 * service that died after creating its streams. JetStream reserves every hop stream's max bytes from the
 * server's storage until the stream is deleted, so enough leftovers make new streams fail with "insufficient
 * storage resources" and every later pipeline test with them. A test stream is named after `uniqueName`
 * (a prefix and ten hex digits, upper-cased by the subjects) plus grantline's stream suffixes; one older than `olderThanMs` belongs to no
 * run still going (a whole CI run is capped at 90 minutes).
 */
const TEST_STREAM = /^(OBJ_)?[A-Z0-9_]*[0-9A-F]{10}_(PAGE_REQ|PAGE_RES|BATCH|PROV|DLQ|EVENTS|BLOBS)$/;

/** True for a test run's stream created before `cutoff` (ms since the epoch). */
export function isStaleTestStream(name: string, created: string, cutoff: number): boolean {
  return TEST_STREAM.test(name) && Date.parse(created) <= cutoff;
}

export async function removeStaleTestStreams(
  natsUrl: string,
  olderThanMs = 3 * 60 * 60 * 1000,
): Promise<string[]> {
  const nc = await connect({ servers: natsUrl, timeout: 5000 });
  try {
    const jsm = await jetstreamManager(nc);
    const cutoff = Date.now() - olderThanMs;
    const removed: string[] = [];
    for await (const s of jsm.streams.list()) {
      if (!isStaleTestStream(s.config.name, s.created, cutoff)) continue;
      await jsm.streams.delete(s.config.name).catch(() => undefined);
      removed.push(s.config.name);
    }
    return removed;
  } finally {
    await nc.close();
  }
}
