// The main job on a fresh machine (`npm run demo`): start aws-sim with a demo organization, migrate, start the
// four services against the local NATS/Redis/Postgres, run a full sync with live progress, print what was
// synced, stop. Options: --org tiny|small|medium|large (default small), --keep (leave everything running; Ctrl-C
// stops), --no-rate-limits. Set SOURCES_FILE to sync your own sources instead of the emulator.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startAwsSim, type AwsSim } from "@grantline/aws-sim";
import { loadSourcesFile } from "@grantline/config";
import { createDb, syncedCounts } from "@grantline/db";

const root = fileURLToPath(new URL("../", import.meta.url));
const { values } = parseArgs({
  options: {
    org: { type: "string", default: "small" },
    keep: { type: "boolean", default: false },
    "no-rate-limits": { type: "boolean", default: false },
  },
});
const preset = values.org as "tiny" | "small" | "medium" | "large";
if (!["tiny", "small", "medium", "large"].includes(preset)) {
  console.error(`demo: --org must be tiny, small, medium or large (got ${values.org})`);
  process.exit(2);
}

const env: Record<string, string | undefined> = {
  ...process.env,
  DATABASE_URL: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/grantline",
  LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
};
const services: ChildProcess[] = [];
let sim: AwsSim | undefined;

function run(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ["cli/bin/grantline.js", ...args], {
      cwd: root,
      env,
      stdio: "inherit",
    });
    c.once("exit", (code) => resolve(code ?? 1));
  });
}

async function stopAll(): Promise<void> {
  await Promise.all(
    services.map(
      (s) =>
        new Promise((resolve) => {
          if (s.exitCode !== null) return resolve(null);
          s.once("exit", resolve);
          s.kill("SIGTERM");
        }),
    ),
  );
  await sim?.close();
}

async function summary(): Promise<void> {
  const db = createDb({ url: env.DATABASE_URL!, poolSize: 1 });
  try {
    const c = await syncedCounts(db);
    const lines: Array<[string, number]> = [
      ["effective grants (groups expanded)", c.effectiveGrants],
      ["entitlements", c.entitlements],
      ["grants", c.grants],
      ...Object.entries(c.resources)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([type, n]): [string, number] => [`resources: ${type}`, n]),
    ];
    console.log("\nwhat was synced:");
    for (const [what, n] of lines) console.log(`  ${what.padEnd(40)} ${n}`);
  } finally {
    await db.destroy();
  }
}

async function main(): Promise<number> {
  if (!process.env.SOURCES_FILE) {
    sim = await startAwsSim({ preset, seed: 1, rateLimits: !values["no-rate-limits"] });
    const dir = mkdtempSync(join(tmpdir(), "grantline-demo-"));
    env.SOURCES_FILE = join(dir, "sources.json");
    writeFileSync(
      env.SOURCES_FILE,
      JSON.stringify({
        sources: [
          {
            id: "demo",
            endpoint: sim.url,
            staticCredentials: sim.managementCredentials,
            fullSyncEveryMinutes: 0,
          },
          { id: "selftest", kind: "diag", fullSyncEveryMinutes: 0, diag: { pages: 5, itemsPerPage: 10 } },
        ],
      }),
    );
    console.log(
      `aws-sim: "${preset}" organization at ${sim.url} (AWS rate limits ${values["no-rate-limits"] ? "off" : "on"})`,
    );
  }
  const sources = loadSourcesFile(env.SOURCES_FILE!).sources;
  console.log("migrating the database");
  if ((await run(["migrate"])) !== 0) return 1;
  console.log("starting scheduler, fetcher, mapper, writer");
  for (const name of ["scheduler", "fetcher", "mapper", "writer"]) {
    services.push(
      spawn(process.execPath, ["--import", "tsx", `services/${name}/src/main.ts`], {
        cwd: root,
        env: { ...env, PROBE_PORT: "0" },
        stdio: ["ignore", "inherit", "inherit"],
      }),
    );
  }
  let failed = 0;
  for (const s of sources) {
    console.log(`\nsyncing source "${s.id}"`);
    if ((await run(["sync", s.id, "--wait"])) !== 0) failed++;
  }
  await summary();
  if (values.keep) {
    console.log("\nrunning (--keep): `npm run grantline -- events tail` shows changes; Ctrl-C stops");
    await new Promise<void>((resolve) => process.once("SIGINT", resolve));
  }
  await stopAll();
  return failed ? 1 : 0;
}

process.once("SIGTERM", () => void stopAll().then(() => process.exit(1)));
main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    console.error("demo failed:", err instanceof Error ? err.message : err);
    await stopAll();
    process.exit(1);
  },
);
