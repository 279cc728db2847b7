import { existsSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import type { TestProject } from "vitest/node";
import { removeStaleTestStreams } from "./remove-stale-test-streams.ts";

/**
 * Finds NATS (with JetStream), Redis and Postgres for the test run.
 *
 * Order: URLs from the environment (`GL_TEST_NATS_URL`, `GL_TEST_REDIS_URL`, `GL_TEST_DATABASE_URL`), defaulting to
 * the local services every developer and CI machine runs; when one is unreachable and a Docker engine exists,
 * testcontainers starts it; otherwise the run stops with one message saying what is missing and how to start it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<unknown>> = [];
  const nats = await resolve("nats", process.env.GL_TEST_NATS_URL ?? "nats://127.0.0.1:4222", async () => {
    const { GenericContainer, Wait } = await import("testcontainers");
    const c = await new GenericContainer("nats:2.9.10")
      .withCommand(["-js"])
      .withExposedPorts(4222)
      .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
      .start();
    stops.push(() => c.stop());
    return `nats://${c.getHost()}:${c.getMappedPort(4222)}`;
  });
  const redis = await resolve(
    "redis",
    process.env.GL_TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
    async () => {
      const { RedisContainer } = await import("@testcontainers/redis");
      const c = await new RedisContainer("redis:7").start();
      stops.push(() => c.stop());
      return c.getConnectionUrl();
    },
  );
  const database = await resolve(
    "postgres",
    process.env.GL_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    async () => {
      const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
      const c = await new PostgreSqlContainer("postgres:16").start();
      stops.push(() => c.stop());
      return c.getConnectionUri();
    },
  );
  const stale = await removeStaleTestStreams(nats).catch(() => []);
  if (stale.length > 0) console.warn(`removed ${stale.length} stale test stream(s) of earlier runs`);
  project.provide("natsUrl", nats);
  project.provide("redisUrl", redis);
  project.provide("databaseUrl", database);
  return async () => {
    await Promise.all(stops.map((s) => s()));
  };
}

async function resolve(name: string, url: string, start: () => Promise<string>): Promise<string> {
  const u = new URL(url);
  const port = Number(u.port || { nats: 4222, redis: 6379, postgres: 5432 }[name]);
  if (await reachable(u.hostname, port)) return url;
  if (dockerAvailable()) return start();
  throw new Error(
    `${name} is not reachable at ${u.hostname}:${port} and no Docker engine is available for testcontainers. ` +
      `Start it (see .ci/run for the commands) or set GL_TEST_${name === "postgres" ? "DATABASE" : name.toUpperCase()}_URL.`,
  );
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = tcpConnect({ host, port, timeout: 1500 });
    s.once("connect", () => {
      s.destroy();
      done(true);
    });
    s.once("error", () => done(false));
    s.once("timeout", () => {
      s.destroy();
      done(false);
    });
  });
}

function dockerAvailable(): boolean {
  return Boolean(process.env.DOCKER_HOST) || existsSync("/var/run/docker.sock");
}
