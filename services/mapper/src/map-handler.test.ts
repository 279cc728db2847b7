import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  pageRequest,
  type BatchLane,
  type PageResult,
  type Resource,
  type ResultBatch,
} from "@grantline/contracts";
import { createLogger } from "@grantline/log";
import { splitBatch } from "@grantline/model";
import type { MessageContext } from "@grantline/nats";
import { createMapHandler } from "./map-handler.ts";

const ctx: MessageContext = {
  logger: createLogger({ service: "mapper-test", level: "silent" }),
  signal: new AbortController().signal,
  subject: "t.page.res.src.diag",
  seq: 1,
  deliveryCount: 1,
  headers: undefined,
  working: () => undefined,
};

const runId = randomUUID();
const request = (i: number) =>
  pageRequest({
    runId,
    sourceId: "src",
    service: "diag",
    operation: "Pages",
    params: { i },
    pageToken: null,
    accountId: null,
    scope: null,
    pageIndex: 0,
  });

const items = (n: number): Resource[] =>
  Array.from({ length: n }, (_, i) => ({
    type: "diag_item",
    id: `item-${i}`,
    parentType: null,
    parentId: null,
    name: `item ${i}`,
    attrs: {},
  }));

function batchOf(rows: number, children: number): ResultBatch {
  return {
    v: 1,
    taskId: request(0).taskId,
    runId,
    sourceId: "src",
    scope: null,
    resources: items(rows),
    entitlements: [],
    grants: [],
    children: Array.from({ length: children }, (_, i) => request(i + 1)),
    scopeComplete: true,
    keepScopes: [],
    warnings: [],
    stats: { awsCalls: 1, throttled: 0 },
  };
}

/** Maps one page (the `map` step returns `batch`, as if the page held it) and records what went where. */
async function mapped(batch: ResultBatch, maxRows = 100) {
  const sent: Array<{ lane: BatchLane; part: ResultBatch["part"]; children: number }> = [];
  const handler = createMapHandler({
    map: () => batch,
    split: (b) => splitBatch(b, maxRows),
    publisher: {
      publish: (b, lane) => {
        sent.push({ lane, part: b.part, children: b.children.length });
        return Promise.resolve();
      },
    },
  });
  await handler({} as PageResult, ctx);
  return sent;
}

describe("createMapHandler lanes", () => {
  it("sends a page that queues tasks down the chain lane, and a leaf down the bulk lane", async () => {
    expect(await mapped(batchOf(3, 2))).toEqual([{ lane: "chain", part: undefined, children: 2 }]);
    expect(await mapped(batchOf(3, 0))).toEqual([{ lane: "bulk", part: undefined, children: 0 }]);
  });

  it("sends every part of a split chain page down the chain lane, in order, children on the last only", async () => {
    const sent = await mapped(batchOf(250, 1), 100);
    expect(sent.map((s) => s.lane)).toEqual(["chain", "chain", "chain"]);
    expect(sent.map((s) => s.part?.index)).toEqual([0, 1, 2]);
    expect(sent.map((s) => s.children)).toEqual([0, 0, 1]);
  });
});
