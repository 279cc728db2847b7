import { createServer, type AddressInfo, type Socket } from "node:net";
import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { createLogger } from "@grantline/log";
import { testInfra, uniqueName, waitFor } from "@grantline/testing";
import { closeRedis } from "./close-redis.ts";
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

  it("closeRedis returns at once from a server that stopped answering, where quit() hangs", async () => {
    // A peer that accepts connections and never replies: a partitioned or wedged Redis.
    const sockets: Socket[] = [];
    const server = createServer((sock) => sockets.push(sock));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    try {
      const hung = createRedis({ url: `redis://127.0.0.1:${port}` });
      await waitFor(() => sockets.length > 0);
      const quit = hung.quit().then(
        () => "quit",
        () => "quit",
      );
      expect(await Promise.race([quit, sleep(500).then(() => "pending")])).toBe("pending");
      const other = createRedis({ url: `redis://127.0.0.1:${port}` });
      await waitFor(() => sockets.length > 1);
      const t = performance.now();
      await closeRedis(other);
      expect(performance.now() - t).toBeLessThan(300);
      await waitFor(() => other.status === "end");
      hung.disconnect();
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }

    const ok = createRedis({ url: testInfra().redisUrl });
    await ok.ping();
    await closeRedis(ok);
    await waitFor(() => ok.status === "end");
  });
});
