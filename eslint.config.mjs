// One linter for the repo: type-aware rules for what review tends to miss (floating promises, misused promises,
// type-only imports) and the package boundaries (docs/architecture.md "Who owns what"): deep imports into
// another package, and each external system's client imported only by the lib that owns it. test/gates proves
// the boundary rules fail on a planted import of each kind.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const deepImports = {
  group: ["@grantline/*/src/*", "../../*/src/*", "../../../libs/*"],
  message: "Import another package through its public entry.",
};

/** Each external system has one owner; everyone else goes through that lib's small interface. */
const owners = {
  aws: {
    message: "Only libs/aws talks to AWS: use @grantline/aws (a type-only import is fine).",
    patterns: ["@aws-sdk/*", "@smithy/*"],
    allowTypeImports: true,
  },
  db: {
    message: "Only libs/db talks to Postgres: add a query function to @grantline/db.",
    // Exact names (a pattern like `pg-*` would also match a local `./pg-run-store.ts`).
    names: ["pg", "pg-pool", "pg-cursor", "pg-query-stream", "kysely"],
    patterns: ["kysely/*"],
  },
  redis: {
    message: "Only libs/redis talks to Redis: use @grantline/redis (RateLimiter, JsonCache, createRedis).",
    names: ["ioredis"],
  },
  nats: {
    message: "Only libs/nats (and the CLI and examples) talk to NATS: use @grantline/nats.",
    patterns: ["@nats-io/*"],
  },
};

/** Production code under `files` may import only the systems it owns (tests and test infrastructure are free). */
function boundary(files, ...own) {
  const banned = Object.entries(owners).filter(([name]) => !own.includes(name));
  const paths = banned.flatMap(([, o]) => (o.names ?? []).map((name) => ({ name, message: o.message })));
  const patterns = banned
    .filter(([, o]) => o.patterns)
    .map(([, o]) => ({
      group: o.patterns,
      message: o.message,
      ...(o.allowTypeImports ? { allowTypeImports: true } : {}),
    }));
  return {
    files,
    ignores: ["**/*.test.ts", "**/*.fixture.ts", "**/test-*.ts"],
    rules: { "no-restricted-imports": ["error", { paths, patterns: [deepImports, ...patterns] }] },
  };
}

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", "**/.typecheck-*/**", "**/*.js", "**/*.mjs", "**/*.cjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-imports": ["error", { patterns: [deepImports] }],
    },
  },
  boundary(["libs/*/src/**/*.ts", "services/*/src/**/*.ts"]),
  boundary(["libs/aws/src/**/*.ts"], "aws"),
  boundary(["libs/db/src/**/*.ts"], "db"),
  boundary(["libs/redis/src/**/*.ts"], "redis"),
  boundary(["libs/nats/src/**/*.ts"], "nats"),
  boundary(["cli/src/**/*.ts", "examples/**/*.ts"], "nats"),
  // Test infrastructure creates databases, flushes key prefixes and opens raw connections by design.
  boundary(["libs/testing/src/**/*.ts"], "db", "redis", "nats"),
);
