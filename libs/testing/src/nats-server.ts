import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where the machine's nats-server is; tests that need their own server skip when it is absent. */
export const NATS_SERVER_BINARY = process.env.GL_TEST_NATS_SERVER ?? "/usr/sbin/nats-server";

export interface TestNatsServer {
  /** `nats://127.0.0.1:<port>` (or `tls://…` when the configuration has a `tls` block). */
  url: string;
  port: number;
  /** The temporary directory holding the configuration, its included files and the JetStream store. */
  dir: string;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

export interface StartNatsServerOptions {
  /**
   * Configuration lines after `listen` and `jetstream` (which this helper sets: a free port on 127.0.0.1, a
   * store in the temporary directory), e.g. `include ./users.conf` or a `tls { … }` block.
   */
  config?: string;
  /** Files written beside the configuration (included files, certificates), by name. */
  files?: Record<string, string>;
  /** Environment of the server process (the `$VAR` references of the configuration). */
  env?: Record<string, string>;
}

/**
 * Starts a nats-server of its own for one test file — for what the shared server cannot show: authorization,
 * TLS. Returns null when the binary is missing (the caller skips, saying why). The port is the server's free
 * pick, read from its log.
 */
export async function startNatsServer(o: StartNatsServerOptions = {}): Promise<TestNatsServer | null> {
  if (!existsSync(NATS_SERVER_BINARY)) return null;
  const dir = mkdtempSync(join(tmpdir(), "gl-nats-"));
  for (const [name, text] of Object.entries(o.files ?? {})) writeFileSync(join(dir, name), text);
  const conf = join(dir, "nats.conf");
  writeFileSync(
    conf,
    [
      "listen: 127.0.0.1:-1",
      `jetstream { store_dir: ${JSON.stringify(join(dir, "js"))}, max_memory_store: 64MB, max_file_store: 256MB }`,
      o.config ?? "",
      "",
    ].join("\n"),
  );
  const proc = spawn(NATS_SERVER_BINARY, ["-c", conf], {
    env: { PATH: process.env.PATH ?? "", ...o.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nats-server did not start in 10 s:\n${log}`)), 10_000);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      const m = /Listening for client connections on [^\s]*:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    proc.stdout.on("data", onData);
    proc.stderr.on("data", onData);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`nats-server exited with ${code}:\n${log}`));
    });
  }).catch(async (err: unknown) => {
    proc.kill("SIGKILL");
    await exited;
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    url: `${/^\s*tls\s*[{:]/m.test(o.config ?? "") ? "tls" : "nats"}://127.0.0.1:${port}`,
    port,
    dir,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
