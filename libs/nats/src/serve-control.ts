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
  /** Child logger bound to the verb and the requesting user. */
  logger: Logger;
  /** The NATS user that sent the request (`anonymous` on a server without authorization). */
  user: string;
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
  /**
   * Records every request once answered (the scheduler's append-only `control_audit` table). A request whose
   * record cannot be written is still answered; the failure is logged.
   */
  audit?: (entry: ControlAuditEntry) => Promise<void>;
}

/** One answered control request. */
export interface ControlAuditEntry {
  user: string;
  verb: CtlVerb;
  /** The request as sent, or its text when it was not JSON. */
  args: unknown;
  /** "ok", or "error: <message>" as replied. */
  outcome: string;
}

export interface ControlServer {
  /** Stops taking requests and waits for those being answered; aborts their signal after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

type Reply = { ok: true } | { ok: false; error: string };

/**
 * Serves `<prefix>.ctl.<verb>.<user>` request/reply; every request is logged with its user and outcome and
 * handed to `audit`. The request is checked against the verb's schema before its
 * handler sees it, and every failure becomes a reply — a malformed request `{ ok: false, error: "bad … request" }`,
 * a throwing handler `{ ok: false, error: "internal error: …" }` — so a caller never waits for a timeout.
 * A caller that sends `traceparent` gets the work done as part of its own trace.
 */
export function serveControl(o: ServeControlOptions): ControlServer {
  const abort = new AbortController();
  const inflight = new Set<Promise<void>>();

  async function answer<V extends CtlVerb>(verb: V, msg: Msg, user: string, log: Logger): Promise<Reply> {
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
        handler(req.data as CtlRequest<V>, { logger: log, user, signal: abort.signal }),
      );
    } catch (err) {
      log.error({ err }, "control request failed");
      return { ok: false, error: `internal error: ${(err as Error).message}` };
    }
  }

  async function audited(verb: CtlVerb, msg: Msg): Promise<Reply> {
    // The subject's last token: each operator user may publish only on its own (natsPermissions).
    const user = msg.subject.slice(msg.subject.lastIndexOf(".") + 1);
    const log = o.logger.child({ verb, user });
    const reply = await answer(verb, msg, user, log);
    const outcome = reply.ok ? "ok" : `error: ${reply.error}`;
    let args: unknown;
    try {
      args = msg.data.length ? msg.json() : {};
    } catch {
      args = msg.string();
    }
    // status is polled (every 0.5 s by `grantline sync --wait`): audited, but logged at debug.
    log[verb === "status" ? "debug" : "info"]({ args, outcome }, `control ${verb} from ${user}: ${outcome}`);
    await o
      .audit?.({ user, verb, args, outcome })
      .catch((err: unknown) => log.error({ err }, "control request not audited"));
    return reply;
  }

  const subs: Subscription[] = CTL_VERBS.map((verb) =>
    o.nc.subscribe(o.subjects.ctlVerb(verb), {
      queue: o.queue,
      callback: (_err, msg) => {
        const p = audited(verb, msg)
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
