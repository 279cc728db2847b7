import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "@grantline/log";
import { testInfra, uniqueName, waitFor } from "@grantline/testing";
import { createRedis } from "./create-redis.ts";
import { redisReadinessCheck } from "./redis-readiness-check.ts";

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ service: "test", level: "debug", destination }) };
}

describe("createRedis", () => {
  it("applies the key prefix and connection name", async () => {
    const prefix = `${uniqueName("redistest")}:`;
    const name = uniqueName("client");
    const prefixed = createRedis({ url: testInfra().redisUrl, keyPrefix: prefix, name });
    const raw = createRedis({ url: testInfra().redisUrl });
    try {
      await prefixed.set("k", "v");
      expect(await raw.get(`${prefix}k`)).toBe("v");
      expect(await raw.client("LIST")).toContain(`name=${name}`);
      await raw.del(`${prefix}k`);
      await expect(redisReadinessCheck(prefixed).check()).resolves.toBeUndefined();
    } finally {
      await Promise.all([prefixed.quit(), raw.quit()]);
    }
  });

  it("logs an outage once, not once per reconnect attempt, and fails commands after bounded retries", async () => {
    const { lines, logger } = capture();
    const redis = createRedis({ url: "redis://127.0.0.1:1", logger, maxReconnectDelayMs: 50 });
    let reconnects = 0;
    redis.on("reconnecting", () => reconnects++);
    try {
      await expect(redis.get("k")).rejects.toThrow(/max retries|ECONNREFUSED/i);
      await waitFor(() => reconnects >= 4);
      const warnings = lines.filter((l) => l.level === "warn");
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ msg: "redis unavailable; reconnecting", port: 1 });
    } finally {
      redis.disconnect();
    }
  });
});
