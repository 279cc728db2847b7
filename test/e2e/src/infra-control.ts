import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";

/**
 * Restarts this machine's shared services the way the machine notes start them. Only the slow suite uses
 * this, and it runs its files one at a time: a restart is felt by every client on the machine.
 */
/** Blocks until no process matches `pattern` (a stopping server still holds its pid and port for a moment). */
function waitUntilGone(pattern: string): void {
  const deadline = Date.now() + 30_000;
  while (spawnSync("pgrep", ["-f", pattern]).status === 0) {
    if (Date.now() > deadline) throw new Error(`${pattern} did not stop within 30 s`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
}

export function restartNats(): void {
  spawnSync("pkill", ["-f", "nats-server.*-p 4222"]);
  // start-stop-daemon --oknodo does nothing while the old server is still exiting: wait for it to be gone,
  // or the "restart" leaves NATS down for good.
  waitUntilGone("nats-server.*-p 4222");
  // JetStream keeps its file store in /var/lib/nats-server, so streams and consumers survive the restart.
  execFileSync("start-stop-daemon", [
    "--start",
    "--oknodo",
    "--background",
    "--exec",
    "/usr/sbin/nats-server",
    "--",
    "-a",
    "127.0.0.1",
    "-p",
    "4222",
    "-js",
    "-sd",
    "/var/lib/nats-server",
    "-l",
    "/var/log/nats-server.log",
  ]);
}

export function restartRedis(): void {
  spawnSync("redis-cli", ["-p", "6379", "shutdown", "nosave"]);
  waitUntilGone("redis-server.*6379");
  execFileSync("redis-server", [
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
  ]);
}

export function restartPostgres(): void {
  const version = readdirSync("/etc/postgresql")[0] ?? "15";
  execFileSync("pg_ctlcluster", ["--skip-systemctl-redirect", version, "main", "restart"]);
}
