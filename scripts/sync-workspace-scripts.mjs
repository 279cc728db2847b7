#!/usr/bin/env node
// Gives every workspace the same typecheck/lint/test scripts and a tsconfig of its own, so turbo can run and
// cache each package's checks separately (turbo.json). Run it after adding a workspace; `npm run check` fails
// (test/gates) when a workspace lacks them.
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";

const root = join(import.meta.dirname, "..");
const rootPkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const dirs = rootPkg.workspaces.flatMap((pattern) =>
  pattern.endsWith("/*")
    ? readdirSync(join(root, pattern.slice(0, -2)), { withFileTypes: true })
        .filter(
          (d) => d.isDirectory() && existsSync(join(root, pattern.slice(0, -2), d.name, "package.json")),
        )
        .map((d) => join(pattern.slice(0, -2), d.name))
    : [pattern],
);

for (const dir of dirs) {
  const abs = join(root, dir);
  const up = relative(abs, root);
  const pkgPath = join(abs, "package.json");
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8"));
  pkg.scripts = {
    ...pkg.scripts,
    typecheck: "tsc -p tsconfig.json",
    lint: "eslint . --max-warnings 0",
    // One vitest config for the repo (global setup finds NATS/Redis/Postgres); the filter keeps this package's files.
    test: `vitest run --root ${up} --passWithNoTests ${dir}/`,
  };
  writeFileSync(pkgPath, `${JSON.stringify(pkg, null, 2)}\n`);
  const include = ["src", "scripts", "bench", "bin"].filter((d) => existsSync(join(abs, d)));
  const tsconfig = { extends: `${up}/tsconfig.base.json`, include };
  writeFileSync(join(abs, "tsconfig.json"), `${JSON.stringify(tsconfig, null, 2)}\n`);
  console.log(`${dir}: scripts and tsconfig.json (${include.join(", ")})`);
}
