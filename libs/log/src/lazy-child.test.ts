import { Writable } from "node:stream";
import { describe, expect, it, vi } from "vitest";
import { createLogger } from "./create-logger.ts";
import { lazyChild } from "./lazy-child.ts";

function sink(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join("")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe("lazyChild", () => {
  it("makes no child for a level that is off, and one, once, for what is logged", () => {
    const s = sink();
    const parent = createLogger({ service: "s", level: "info", destination: s.stream });
    const child = vi.spyOn(parent, "child");
    const log = lazyChild(parent, { seq: 7 });
    log.debug("quiet");
    expect(child).not.toHaveBeenCalled();
    log.info({ a: 1 }, "one");
    log.warn("two");
    expect(child).toHaveBeenCalledTimes(1);
    expect(s.lines()).toMatchObject([
      { seq: 7, a: 1, msg: "one", level: "info" },
      { seq: 7, msg: "two", level: "warn" },
    ]);
  });

  it("carries bindings added before its first line, keeps redaction and makes grandchildren", () => {
    const s = sink();
    const parent = createLogger({ service: "s", destination: s.stream });
    const bindings: Record<string, unknown> = { seq: 1 };
    const log = lazyChild(parent, bindings);
    bindings.taskId = "t-1";
    log.child({ op: "x" }).info({ secretAccessKey: "S3cr3t" }, "line");
    expect(log.isLevelEnabled("info")).toBe(true);
    expect(s.lines()[0]).toMatchObject({ seq: 1, taskId: "t-1", op: "x", secretAccessKey: "[redacted]" });
  });
});
