import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import type { z } from "zod";
import type { Stage, Subjects } from "@grantline/contracts";
import type { Logger } from "@grantline/log";
import { ensureConsumer } from "./ensure-topology.ts";
import {
  startConsumer,
  type ConsumerOutcome,
  type MessageHandler,
  type RunningConsumer,
} from "./start-consumer.ts";
import type { BlobStore } from "./blob-store.ts";

export interface StageSettings {
  MAX_IN_FLIGHT: number;
  MAX_DELIVER: number;
  ACK_WAIT_MS: number;
  MAX_PAYLOAD_BYTES?: number;
}

export interface StartStageOptions<S extends z.ZodType> {
  js: JetStreamClient;
  jsm: JetStreamManager;
  subjects: Subjects;
  stage: Stage;
  stream: string;
  filterSubject: string;
  /** Durable name; every replica of a stage shares it, which is how replicas split the work. */
  durable: string;
  schema: S;
  handler: MessageHandler<z.infer<S>>;
  settings: StageSettings;
  logger: Logger;
  observe?: (outcome: ConsumerOutcome, seconds: number) => void;
  blobs?: BlobStore;
  /**
   * Take every message the server delivers and keep those waiting for a slot alive, up to the consumer's
   * max_ack_pending (`startConsumer`'s `holdWhileBusy`): for small messages whose handlers may run longer than
   * ACK_WAIT_MS behind one another (the fetcher's page requests). @default false
   */
  holdWhileBusy?: boolean;
}

/** Ensures the stage's durable consumer and starts the consume loop on it. */
export async function startStage<S extends z.ZodType>(o: StartStageOptions<S>): Promise<RunningConsumer> {
  // Several replicas each holding MAX_IN_FLIGHT, with headroom; beyond this the server stops delivering.
  const maxAckPending = Math.max(64, o.settings.MAX_IN_FLIGHT * 8);
  await ensureConsumer(o.jsm, {
    stream: o.stream,
    durable: o.durable,
    filterSubject: o.filterSubject,
    ackWaitMs: o.settings.ACK_WAIT_MS,
    maxAckPending,
  });
  return startConsumer({
    js: o.js,
    subjects: o.subjects,
    stream: o.stream,
    durable: o.durable,
    stage: o.stage,
    schema: o.schema,
    handler: o.handler,
    logger: o.logger,
    maxInFlight: o.settings.MAX_IN_FLIGHT,
    ackWaitMs: o.settings.ACK_WAIT_MS,
    retry: { maxDeliver: o.settings.MAX_DELIVER },
    observe: o.observe,
    blobs: o.blobs,
    maxPayloadBytes: o.settings.MAX_PAYLOAD_BYTES,
    holdWhileBusy: o.holdWhileBusy ? maxAckPending - o.settings.MAX_IN_FLIGHT : 0,
  });
}

/** Readiness: the connection is up and the server answers a round trip. */
export function natsReadiness(nc: NatsConnection): { name: string; check: () => Promise<void> } {
  return {
    name: "nats",
    async check() {
      if (nc.isClosed()) throw new Error("connection closed");
      await nc.flush();
    },
  };
}
