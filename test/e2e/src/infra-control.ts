import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";

/**
 * Restarts this machine's shared services the way the machine notes start them. Only the slow suite uses
 * this, and it runs its files one at a time: a restart is felt by every client on the machine.
 */
export function restartNats(): void {
  spawnSync("pkill", ["-f", "nats-server.*-p 4222"]);
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
