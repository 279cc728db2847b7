import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import {
  CTL_SCHEMAS,
  CTL_VERBS,
  type CtlReply,
  type CtlRequest,
  type CtlVerb,
  type Subjects,
} from "@grantline/contracts";
import type { Logger } from "@grantline/log";
import { inTraceContextOf } from "./trace-context.ts";

/** What a control handler gets besides its request. */
export interface ControlContext {
  /** Child logger bound to the verb. */
  logger: Logger;
  /** Aborted when the server stops: pass it to every network and database call. */
  signal: AbortSignal;
}

/** Answers one verb: a parsed request in, a reply out (errors the caller should see are `{ ok: false }`). */
export type ControlHandler<V extends CtlVerb> = (
  request: CtlRequest<V>,
  ctx: ControlContext,
) => Promise<CtlReply<V>>;

/** One handler per verb: a verb in `CTL_VERBS` without a handler fails typecheck, not a request. */
export type ControlHandlers = { [V in CtlVerb]: ControlHandler<V> };

export interface ServeControlOptions {
  nc: NatsConnection;
  subjects: Subjects;
  handlers: ControlHandlers;
  logger: Logger;
  /** Queue group: one replica answers each request. */
  queue: string;
}

export interface ControlServer {
  /** Stops taking requests and waits for those being answered; aborts their signal after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

type Reply = { ok: true } | { ok: false; error: string };

/**
 * Serves `<prefix>.ctl.<verb>` request/reply. The request is checked against the verb's schema before its
 * handler sees it, and every failure becomes a reply — a malformed request `{ ok: false, error: "bad … request" }`,
 * a throwing handler `{ ok: false, error: "internal error: …" }` — so a caller never waits for a timeout.
 * A caller that sends `traceparent` gets the work done as part of its own trace.
 */
export function serveControl(o: ServeControlOptions): ControlServer {
  const abort = new AbortController();
  const inflight = new Set<Promise<void>>();

  async function answer<V extends CtlVerb>(verb: V, msg: Msg): Promise<Reply> {
    const log = o.logger.child({ verb });
    let body: unknown;
    try {
      body = msg.data.length ? msg.json() : {};
    } catch {
      return { ok: false, error: `bad ${verb} request: not JSON` };
    }
    const req = CTL_SCHEMAS[verb].request.safeParse(body);
    if (!req.success)
      return {
        ok: false,
        error: `bad ${verb} request: ${req.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ")}`,
      };
    const handler = o.handlers[verb] as ControlHandler<V>;
    try {
      return await inTraceContextOf(msg.headers, () =>
        handler(req.data as CtlRequest<V>, { logger: log, signal: abort.signal }),
      );
    } catch (err) {
      log.error({ err }, "control request failed");
      return { ok: false, error: `internal error: ${(err as Error).message}` };
    }
  }

  const subs: Subscription[] = CTL_VERBS.map((verb) =>
    o.nc.subscribe(o.subjects.ctl(verb), {
      queue: o.queue,
      callback: (_err, msg) => {
        const p = answer(verb, msg)
          .then((reply) => void msg.respond(JSON.stringify(reply)))
          .catch((err: unknown) => o.logger.warn({ err, verb }, "control reply failed"))
          .finally(() => inflight.delete(p));
        inflight.add(p);
      },
    }),
  );

  return {
    async stop(graceMs = 10_000) {
      for (const s of subs) s.unsubscribe();
      const settled = Promise.allSettled([...inflight]);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs)));
      if (await Promise.race([settled.then(() => false), timedOut])) {
        abort.abort(new Error("shutdown"));
        await settled;
      }
      clearTimeout(timer);
    },
  };
}
