import { headers, PermissionViolationError, type NatsConnection } from "@nats-io/nats-core";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { Subjects } from "@grantline/contracts";
import { natsPermissions, type NatsRole } from "./nats-permissions.ts";
import { createQueuedTasksCheck } from "./queued-tasks.ts";

/** A token no grantline subject uses: what the probes publish and subscribe on. */
const PROBE = "gl-permission-check";

/** The permission violation somewhere in `err`'s cause chain (clients wrap it in request and JetStream errors). */
export function permissionViolationIn(err: unknown): PermissionViolationError | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++)
    if (e instanceof PermissionViolationError) return e;
  return undefined;
}

/** One line for a refused operation: which user may not do what on which subject. */
export function describeViolation(v: PermissionViolationError, user: string | null): string {
  const who = user ? `NATS user "${user}"` : "this NATS connection";
  const queue = v.queue ? ` (queue ${v.queue})` : "";
  return `${who} may not ${v.operation === "subscription" ? "subscribe to" : "publish to"} "${v.subject}"${queue}: the server's permissions lack it (deploy/nats/grantline-users.conf is rendered from natsPermissions())`;
}

const concrete = (pattern: string) =>
  pattern
    .split(".")
    .map((t) => (t === "*" || t === ">" ? PROBE : t))
    .join(".");

/**
 * Checks at start-up, before any message is handled, that the server lets `role` do what its code will do —
 * so a missing permission stops the service with one line naming the subject, not at the first page hours later.
 * Stream subjects are probed by a publish that names a stream that does not exist (`Nats-Expected-Stream`):
 * JetStream refuses it without storing anything, while a missing permission is refused by the server first.
 * Subscriptions are made and dropped. The scheduler's purge and queue read are probed with a filter that matches
 * nothing. The JetStream API calls of consumers and the blob store are exercised by start-up itself (creating
 * consumers, opening the bucket). Throws the `PermissionViolationError` of the first refusal.
 */
export async function checkNatsPermissions(o: {
  nc: NatsConnection;
  jsm: JetStreamManager;
  subjects: Subjects;
  role: NatsRole;
}): Promise<void> {
  const perms = natsPermissions(o.subjects.prefix)[o.role];
  const refused: PermissionViolationError[] = [];
  const subs = perms.subscribe.map((pattern) =>
    o.nc.subscribe(pattern, {
      callback: (err) => {
        if (err instanceof PermissionViolationError) refused.push(err);
      },
    }),
  );
  await o.nc.flush();
  for (const s of subs) s.unsubscribe();
  if (refused[0]) throw refused[0];
  for (const pattern of perms.publish.filter((p) => !p.startsWith("$"))) {
    const h = headers();
    h.set("Nats-Expected-Stream", PROBE);
    try {
      await o.nc.request(concrete(pattern), "", { headers: h, timeout: 5_000 });
    } catch (err) {
      const v = permissionViolationIn(err);
      if (v) throw v;
      // No responders: no stream takes the subject, which says nothing about the permission (it was granted).
    }
  }
  if (o.role === "scheduler") {
    const { streams, prefix } = o.subjects;
    await o.jsm.streams.purge(streams.pageRequests, { filter: `${prefix}.page.req.${PROBE}.${PROBE}` });
    await o.jsm.streams.purge(streams.pageResults, { filter: `${prefix}.page.res.${PROBE}.${PROBE}` });
    await o.jsm.streams.purge(streams.batches, { filter: `${prefix}.batch.${PROBE}` });
    await o.jsm.streams.purge(streams.batches, { filter: `${prefix}.chain.${PROBE}` });
    // Stalled-task recovery's read of the fetcher queues (queued-tasks.ts): a subject no request uses.
    await createQueuedTasksCheck(o.subjects, o.jsm)([PROBE]);
  }
}
