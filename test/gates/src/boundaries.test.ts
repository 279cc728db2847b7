// The boundary rules of eslint.config.mjs, shown to fail: a scratch copy of the lint configuration gets one
// planted import of each forbidden kind, in the folder layout the rules name, and must report exactly those.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { ESLint } from "eslint";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "./repo-files.ts";

const plants: Record<string, string> = {
  "services/writer/src/planted-pg.ts": `import pg from "pg";\nexport const client = new pg.Client();\n`,
  "services/scheduler/src/planted-kysely.ts": `import { sql } from "kysely";\nexport const q = sql\`SELECT 1\`;\n`,
  "libs/aws/src/planted-ioredis.ts": `import { Redis } from "ioredis";\nexport const r = new Redis();\n`,
  "services/fetcher/src/planted-aws.ts": `import { IAMClient } from "@aws-sdk/client-iam";\nexport const c = new IAMClient({});\n`,
  "libs/db/src/planted-nats.ts": `import { connect } from "@nats-io/transport-node";\nexport const nc = connect;\n`,
  "services/mapper/src/planted-deep.ts": `import { mapPage } from "@grantline/model/src/map-page.ts";\nexport const m = mapPage;\n`,
  // Owners and the allowed exceptions must stay clean.
  "libs/db/src/allowed-pg.ts": `import pg from "pg";\nexport const client = new pg.Client();\n`,
  "libs/redis/src/allowed-ioredis.ts": `import { Redis } from "ioredis";\nexport const r = new Redis();\n`,
  "libs/nats/src/allowed-nats.ts": `import { connect } from "@nats-io/transport-node";\nexport const nc = connect;\n`,
  "cli/src/allowed-nats.ts": `import { connect } from "@nats-io/transport-node";\nexport const nc = connect;\n`,
  "libs/aws/src/allowed-aws.ts": `import { IAMClient } from "@aws-sdk/client-iam";\nexport const c = new IAMClient({});\n`,
  "services/fetcher/src/allowed-aws-type.ts": `import type { IAMClient } from "@aws-sdk/client-iam";\nexport type C = IAMClient;\n`,
  // A local module whose name starts like a client package is not that package.
  "services/scheduler/src/allowed-local.ts": `import { x } from "./pg-run-store.ts";\nexport const y = x;\n`,
  "services/scheduler/src/pg-run-store.ts": `export const x = 1;\n`,
  "services/writer/src/allowed.test.ts": `import pg from "pg";\nexport const client = new pg.Client();\n`,
};

let scratch: string;
let results: Map<string, string[]>;

beforeAll(async () => {
  // Inside the repository (.tmp is ignored), so the config's own imports resolve from node_modules.
  mkdirSync(join(repoRoot, ".tmp"), { recursive: true });
  scratch = mkdtempSync(join(repoRoot, ".tmp", "boundaries-"));
  copyFileSync(join(repoRoot, "eslint.config.mjs"), join(scratch, "eslint.config.mjs"));
  writeFileSync(
    join(scratch, "tsconfig.json"),
    JSON.stringify({
      extends: relative(scratch, join(repoRoot, "tsconfig.base.json")),
      include: ["**/*.ts"],
    }),
  );
  for (const [path, text] of Object.entries(plants)) {
    mkdirSync(dirname(join(scratch, path)), { recursive: true });
    writeFileSync(join(scratch, path), text);
  }
  const eslint = new ESLint({ cwd: scratch, overrideConfigFile: join(scratch, "eslint.config.mjs") });
  const lint = await eslint.lintFiles(["."]);
  results = new Map(
    lint.map((r) => [
      relative(scratch, r.filePath),
      r.messages.filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message),
    ]),
  );
}, 120_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("package boundaries", () => {
  it.each([
    ["services/writer/src/planted-pg.ts", "Only libs/db talks to Postgres"],
    ["services/scheduler/src/planted-kysely.ts", "Only libs/db talks to Postgres"],
    ["libs/aws/src/planted-ioredis.ts", "Only libs/redis talks to Redis"],
    ["services/fetcher/src/planted-aws.ts", "Only libs/aws talks to AWS"],
    ["libs/db/src/planted-nats.ts", "Only libs/nats"],
    ["services/mapper/src/planted-deep.ts", "through its public entry"],
  ])("refuses %s", (file, message) => {
    expect(results.get(file)).toEqual([expect.stringContaining(message)]);
  });

  it("lets each owner, the CLI, type-only AWS imports and tests import what they own", () => {
    const allowed = [...results].filter(([file]) => !file.includes("planted-"));
    expect(allowed).toHaveLength(9);
    for (const [file, messages] of allowed) expect({ file, messages }).toEqual({ file, messages: [] });
  });
});
