import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createLogger } from "@grantline/log";
import { waitFor } from "@grantline/testing";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { Subjects } from "@grantline/contracts";
import { headers } from "@nats-io/nats-core";
import { ensureConsumer } from "./ensure-topology.ts";
import { publishJson } from "./publish-json.ts";
import { startConsumer } from "./start-consumer.ts";
import { openTestStreams, type TestStreams } from "./test-streams.ts";

// This file registers a real tracer provider for its own worker process (vitest isolates files).
const spans = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
provider.register();

const lines: Array<Record<string, unknown>> = [];
const logger = createLogger({
  service: "test",
  level: "debug",
  destination: { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) },
});
const Payload = z.object({ taskId: z.string(), runId: z.string() });

let t: TestStreams;
let js: JetStreamClient;
let jsm: JetStreamManager;
let subjects: Subjects;

beforeAll(async () => {
  t = await openTestStreams("tc");
  ({ js, jsm, subjects } = t);
  await ensureConsumer(jsm, {
    stream: subjects.streams.batches,
    durable: "traced",
    filterSubject: subjects.batch("in"),
    ackWaitMs: 5000,
  });
});
afterAll(async () => {
  await t.close();
  await provider.shutdown();
});

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN = "00f067aa0ba902b7";

describe("W3C trace context over NATS headers", () => {
  it("continues the trace a message carries: span, log lines and the messages it publishes", async () => {
    const consumer = await startConsumer({
      js,
      subjects,
      stream: subjects.streams.batches,
      durable: "traced",
      stage: "mapper",
      schema: Payload,
      logger,
      maxInFlight: 2,
      ackWaitMs: 5000,
      handler: async (p, ctx) => {
        ctx.logger.info("handling");
        await publishJson(
          js,
          subjects.batch(`out-${p.taskId}`),
          { taskId: `${p.taskId}-child` },
          { msgID: `out:${p.taskId}` },
        );
      },
    });
    try {
      const h = headers();
      h.set("traceparent", `00-${TRACE_ID}-${PARENT_SPAN}-01`);
      await js.publish(subjects.batch("in"), JSON.stringify({ taskId: "t-traced", runId: "r1" }), {
        headers: h,
        msgID: "in:t-traced",
      });
      await js.publish(subjects.batch("in"), JSON.stringify({ taskId: "t-fresh", runId: "r1" }), {
        msgID: "in:t-fresh",
      });

      const processed = await waitFor(() => {
        const done = spans.getFinishedSpans().filter((s) => s.name === "mapper process");
        return done.length === 2 ? done : null;
      });
      const traced = processed.find((s) => s.attributes["grantline.task_id"] === "t-traced");
      const fresh = processed.find((s) => s.attributes["grantline.task_id"] === "t-fresh");
      expect(traced?.spanContext().traceId).toBe(TRACE_ID);
      expect(traced?.parentSpanContext?.spanId).toBe(PARENT_SPAN);
      expect(traced?.attributes["grantline.outcome"]).toBe("ack");
      // A message without trace headers starts its own trace rather than joining another.
      expect(fresh?.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(fresh?.spanContext().traceId).not.toBe(TRACE_ID);

      const line = lines.find((l) => l.msg === "handling" && l.taskId === "t-traced");
      expect(line).toMatchObject({ trace_id: TRACE_ID, span_id: traced?.spanContext().spanId, runId: "r1" });

      const out = await jsm.streams.getMessage(subjects.streams.batches, {
        last_by_subj: subjects.batch("out-t-traced"),
      });
      // The child message names the consumer span as its parent, so the chain stays unbroken.
      expect(out?.header.get("traceparent")).toBe(`00-${TRACE_ID}-${traced?.spanContext().spanId}-01`);
    } finally {
      await consumer.stop(1000);
    }
  });
});
