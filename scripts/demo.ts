// The main job on a fresh machine (`npm run demo`): migrate, start the four services against the local
// NATS/Redis/Postgres, run a full sync of every demo source with live progress, print what was synced, stop.
// `--keep` leaves the services running (Ctrl-C stops them).
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { loadSourcesFile } from "@grantline/config";

const root = fileURLToPath(new URL("../", import.meta.url));
const keep = process.argv.includes("--keep");
const env = {
  ...process.env,
  SOURCES_FILE: process.env.SOURCES_FILE ?? `${root}deploy/demo/sources.yaml`,
  DATABASE_URL: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/grantline",
  LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
};
const sources = loadSourcesFile(env.SOURCES_FILE).sources;

function run(cmd: string[], opts: { quiet?: boolean } = {}): Promise<number> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, cmd, { cwd: root, env, stdio: opts.quiet ? "ignore" : "inherit" });
    c.once("exit", (code) => resolve(code ?? 1));
  });
}

const services: ChildProcess[] = [];
function stopAll(): Promise<unknown> {
  return Promise.all(
    services.map(
      (s) =>
        new Promise((resolve) => {
          if (s.exitCode !== null) return resolve(null);
          s.once("exit", resolve);
          s.kill("SIGTERM");
        }),
    ),
  );
}

async function main(): Promise<number> {
  console.log("grantline demo: migrating the database");
  if ((await run(["cli/bin/grantline.js", "migrate"])) !== 0) return 1;
  console.log("starting scheduler, fetcher, mapper, writer");
  for (const name of ["scheduler", "fetcher", "mapper", "writer"]) {
    const c = spawn(process.execPath, ["--import", "tsx", `services/${name}/src/main.ts`], {
      cwd: root,
      env: { ...env, PROBE_PORT: "0" },
      stdio: ["ignore", "inherit", "inherit"],
    });
    services.push(c);
  }
  let failed = 0;
  for (const s of sources) {
    console.log(`\nsyncing source "${s.id}"`);
    const code = await run(["cli/bin/grantline.js", "sync", s.id, "--wait"]);
    if (code !== 0) failed++;
  }
  console.log("\nruns:");
  await run(["cli/bin/grantline.js", "status"]);
  if (keep) {
    console.log("\nservices keep running (--keep); watch changes with: npm run grantline -- events tail");
    await new Promise<void>((resolve) => process.once("SIGINT", resolve));
  }
  await stopAll();
  return failed ? 1 : 0;
}

process.once("SIGTERM", () => void stopAll().then(() => process.exit(1)));
main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    console.error("demo failed:", err);
    await stopAll();
    process.exit(1);
  },
);
