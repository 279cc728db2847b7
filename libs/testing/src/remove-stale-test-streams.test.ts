import { describe, expect, it } from "vitest";
import { isStaleTestStream } from "./remove-stale-test-streams.ts";

describe("isStaleTestStream", () => {
  const cutoff = Date.parse("2026-12-01T12:00:00Z");
  const old = "2026-12-01T08:00:00Z";

  it("picks an old stream of a test run (uniqueName prefix + grantline suffix), object stores too", () => {
    expect(isStaleTestStream("E2EA183E13B1C_PAGE_REQ", old, cutoff)).toBe(true);
    expect(isStaleTestStream("BENCH0123456789_EVENTS", old, cutoff)).toBe(true);
    expect(isStaleTestStream("OBJ_E2EA183E13B1C_BLOBS", old, cutoff)).toBe(true);
  });

  it("keeps a stream of a run that may still be going", () => {
    expect(isStaleTestStream("E2EA183E13B1C_BATCH", "2026-12-01T12:30:00Z", cutoff)).toBe(false);
  });

  it("never touches a deployment's streams or anything else", () => {
    expect(isStaleTestStream("GL_PAGE_REQ", old, cutoff)).toBe(false);
    expect(isStaleTestStream("PROD_EVENTS", old, cutoff)).toBe(false);
    expect(isStaleTestStream("ORDERS", old, cutoff)).toBe(false);
  });
});
