// Bundles each container entry point into one self-contained ES module under dist/ (the Dockerfile's build
// stage runs this): workspace libs *and* npm dependencies (pg, ioredis, nats, AWS SDK, pino, prom-client) are
// bundled in, so the runtime image needs no node_modules at all.
//
//   node scripts/bundle.mjs [outdir]      # default: dist
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const outdir = process.argv[2] ?? "dist";

export const ENTRIES = {
  scheduler: "services/scheduler/src/main.ts",
  fetcher: "services/fetcher/src/main.ts",
  mapper: "services/mapper/src/main.ts",
  writer: "services/writer/src/main.ts",
  grantline: "cli/src/main.ts",
  "aws-sim": "test/aws-sim/src/cli.ts",
};

const started = performance.now();
await build({
  absWorkingDir: root,
  entryPoints: ENTRIES,
  outdir,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // pg's optional native binding is never used (pg falls back to its pure-JS client).
  external: ["pg-native"],
  // CommonJS dependencies call require() on Node built-ins; an ES module bundle has no require of its own.
  banner: {
    js: "import { createRequire as __glCreateRequire } from 'node:module'; const require = __glCreateRequire(import.meta.url);",
  },
  sourcemap: "linked",
  legalComments: "none",
  logLevel: "warning",
});
console.log(
  `bundled ${Object.keys(ENTRIES).join(", ")} into ${outdir}/ in ${Math.round(performance.now() - started)} ms`,
);
