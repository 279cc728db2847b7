// Child processes of the benchmark (aws-sim, the services): every one is tracked so a signal or a failure stops
// them all instead of leaving services consuming from the shared NATS and Postgres. So are its scratch
// directories (the services' bundles, ~50 MB a run; the sources file), removed once the processes have stopped.
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";

const children: ChildProcess[] = [];
const scratchDirs: string[] = [];

/** A new directory under the system's temporary directory, removed by `stopAll`. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratchDirs.push(dir);
  return dir;
}

/** `spawn`, remembering the child for `stopAll`. */
export function spawnTracked(command: string, args: string[], options: SpawnOptions): ChildProcess {
  const child = spawn(command, args, options);
  children.push(child);
  return child;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

function exited(c: ChildProcess): Promise<void> {
  return c.exitCode !== null || c.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => c.once("exit", () => resolve()));
}

export async function stopProcess(c: ChildProcess, graceMs = 10_000): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  c.kill("SIGTERM");
  const t = setTimeout(() => c.kill("SIGKILL"), graceMs);
  await exited(c);
  clearTimeout(t);
}

export async function stopAll(graceMs: number): Promise<void> {
  await Promise.all(children.map((c) => stopProcess(c, graceMs)));
  for (const dir of scratchDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
