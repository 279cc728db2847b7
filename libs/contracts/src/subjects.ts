import { ServiceName } from "./messages.ts";
import type { STAGES } from "./vocabulary.ts";

export type Stage = (typeof STAGES)[number];

/** Control verbs answered by the scheduler on `<prefix>.ctl.<verb>.<user>` (request/reply). */
export const CTL_VERBS = ["sync", "status", "cancel", "refresh", "grant", "revoke", "grants"] as const;
export type CtlVerb = (typeof CTL_VERBS)[number];

/**
 * The identity token of a control request sent without NATS credentials (a server with no authorization): the
 * scheduler logs and audits it as such, because nothing vouches for who sent it.
 */
export const ANONYMOUS_CTL_USER = "anonymous";

/**
 * Subject and stream names. Everything hangs off one prefix (default `gl`) so that several deployments — or
 * parallel test files — can share one NATS server without seeing each other's messages.
 */
export interface Subjects {
  readonly prefix: string;
  pageRequest(sourceId: string, service: string): string;
  pageResult(sourceId: string, service: string): string;
  /** Page requests of every source addressed to one AWS service: the filter of that service's fetcher consumer. */
  pageRequestsFor(service: string): string;
  /** Page requests of one source, every service: what cancelling the source's run purges. */
  pageRequestsOf(sourceId: string): string;
  /** Page results of one source, every service. */
  pageResultsOf(sourceId: string): string;
  /** Result batches that queue no tasks (leaves): the writer's bulk lane. */
  batch(sourceId: string): string;
  /**
   * Result batches that queue tasks (a chain's next page, the details of what a page listed): the writer's chain
   * lane, read by a consumer of its own so they never wait behind the bulk (`WRITER_DURABLES`).
   */
  chainBatch(sourceId: string): string;
  /** An AWS change for the fetcher to make (provisioning). */
  provisioningExec(sourceId: string): string;
  /** The AWS change's final answer, for the scheduler. */
  provisioningDone(sourceId: string): string;
  deadLetter(stage: Stage): string;
  event(sourceId: string, type: string): string;
  /** Events of one type from every source. */
  eventsOfType(type: string): string;
  /**
   * Control request subject of `user` (the NATS user sending it). The server's permissions let each operator
   * user publish only on its own `<prefix>.ctl.*.<user>`, so the last token is an identity the server enforced
   * (NATS 2.9 has no other way to tell a responder who sent a core request).
   */
  ctl(verb: CtlVerb, user?: string): string;
  /** Every control verb of one user: what that operator user may publish. */
  ctlBy(user: string): string;
  /** One verb from every user: what the scheduler subscribes to. */
  ctlVerb(verb: CtlVerb): string;
  /** Wildcards a stream or consumer filters on. */
  readonly all: {
    pageRequests: string;
    pageResults: string;
    batches: string;
    chainBatches: string;
    provisioningExec: string;
    provisioningDone: string;
    deadLetters: string;
    events: string;
    ctl: string;
  };
  /** Stream names (upper-case, derived from the prefix). */
  readonly streams: {
    pageRequests: string;
    pageResults: string;
    batches: string;
    provisioning: string;
    deadLetters: string;
    events: string;
  };
}

const TOKEN = /^[A-Za-z0-9_-]+$/;

/** Builds the subject names for `prefix`; throws on a token NATS would split or wildcard. */
export function createSubjects(prefix = "gl"): Subjects {
  if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/i.test(prefix)) throw new Error(`invalid subject prefix "${prefix}"`);
  const tok = (what: string, v: string): string => {
    if (!TOKEN.test(v))
      throw new Error(
        `invalid ${what} "${v}": only letters, digits, '-' and '_' may appear in a subject token`,
      );
    return v;
  };
  const s = prefix.replace(/[^A-Za-z0-9]/g, "_").toUpperCase();
  return {
    prefix,
    pageRequest: (source, service) =>
      `${prefix}.page.req.${tok("source id", source)}.${tok("service", service)}`,
    pageResult: (source, service) =>
      `${prefix}.page.res.${tok("source id", source)}.${tok("service", service)}`,
    pageRequestsFor: (service) => `${prefix}.page.req.*.${tok("service", service)}`,
    pageRequestsOf: (source) => `${prefix}.page.req.${tok("source id", source)}.>`,
    pageResultsOf: (source) => `${prefix}.page.res.${tok("source id", source)}.>`,
    batch: (source) => `${prefix}.batch.${tok("source id", source)}`,
    chainBatch: (source) => `${prefix}.chain.${tok("source id", source)}`,
    provisioningExec: (source) => `${prefix}.prov.exec.${tok("source id", source)}`,
    provisioningDone: (source) => `${prefix}.prov.done.${tok("source id", source)}`,
    deadLetter: (stage) => `${prefix}.dlq.${stage}`,
    event: (source, type) => `${prefix}.events.${tok("source id", source)}.${type}`,
    eventsOfType: (type) => `${prefix}.events.*.${type}`,
    ctl: (verb, user = ANONYMOUS_CTL_USER) => `${prefix}.ctl.${verb}.${tok("control user", user)}`,
    ctlBy: (user) => `${prefix}.ctl.*.${tok("control user", user)}`,
    ctlVerb: (verb) => `${prefix}.ctl.${verb}.*`,
    all: {
      pageRequests: `${prefix}.page.req.>`,
      pageResults: `${prefix}.page.res.>`,
      batches: `${prefix}.batch.>`,
      chainBatches: `${prefix}.chain.>`,
      provisioningExec: `${prefix}.prov.exec.*`,
      provisioningDone: `${prefix}.prov.done.*`,
      deadLetters: `${prefix}.dlq.>`,
      events: `${prefix}.events.>`,
      ctl: `${prefix}.ctl.>`,
    },
    streams: {
      pageRequests: `${s}_PAGE_REQ`,
      pageResults: `${s}_PAGE_RES`,
      batches: `${s}_BATCH`,
      provisioning: `${s}_PROV`,
      deadLetters: `${s}_DLQ`,
      events: `${s}_EVENTS`,
    },
  };
}

/**
 * The fetcher's durable consumer for one AWS service. The fetcher consumes each service's requests separately:
 * with one consumer over all of them, thousands of queued Identity Center requests (each waiting its turn in a
 * 20/s budget) held every delivery slot while the short Identity Store and Organizations page chains waited
 * behind them — a large sync ran 1.37 × the rate-limit floor instead of finishing with its slowest budget.
 */
export function fetcherDurable(service: string): string {
  return `fetcher-${service}`;
}

/** Every durable consumer the pipeline's stages read from, in stage order (fetcher: one per AWS service). */
export function pipelineConsumers(subjects: Subjects): Array<{ stream: string; durable: string }> {
  return [
    ...ServiceName.options.map((service) => ({
      stream: subjects.streams.pageRequests,
      durable: fetcherDurable(service),
    })),
    { stream: subjects.streams.pageResults, durable: "mapper" },
    { stream: subjects.streams.batches, durable: WRITER_DURABLES.bulk },
    { stream: subjects.streams.batches, durable: WRITER_DURABLES.chain },
  ];
}

/**
 * The writer's two durable consumers of the batches stream. `bulk` reads `<prefix>.batch.>` (its name is the one
 * consumer's of releases before the lanes, so an upgrade keeps its queue); `chain` reads `<prefix>.chain.>`, the
 * batches whose commit queues more work. One FIFO held both: in a large organization at 10 × AWS's quotas the
 * writer's queue grew to 1,500 Identity Center leaves, and every page of the ListUsers, ListGroups and ListAccounts
 * chains waited seconds behind them — the chains, not the budgets, set the end of the run.
 */
export const WRITER_DURABLES = { bulk: "writer", chain: "writer-chain" } as const;

/**
 * Which writer consumer a batch is for: `chain` when its page queues tasks (its commit is what the next page of a
 * chain, or the details of what it listed, wait for) — every part of such a page — `bulk` otherwise.
 */
export type BatchLane = keyof typeof WRITER_DURABLES;

/** The fetcher's durable consumer of AWS changes to make, and the scheduler's of their answers (stream `provisioning`). */
export const PROVISIONING_DURABLES = {
  fetcher: "fetcher-provisioning",
  scheduler: "scheduler-provisioning",
} as const;

/** The durable name of the single all-services fetcher consumer of releases before per-service consumers. */
export const LEGACY_FETCHER_DURABLE = "fetcher";
