import { defineConfig } from "vitest/config";

// One vitest run for the whole repo. Files run in parallel (2 cores here), each isolated by its own
// stream/subject prefix, database and Redis key prefix; infrastructure URLs come from the global setup.
export default defineConfig({
  test: {
    include: [
      "libs/*/src/**/*.test.ts",
      "services/*/src/**/*.test.ts",
      "test/*/src/**/*.test.ts",
      "cli/src/**/*.test.ts",
      "deploy/test/**/*.test.ts",
      "bench/**/*.test.ts",
    ],
    exclude: ["**/node_modules/**", "**/*.slow.test.ts"],
    globalSetup: ["./libs/testing/src/global-setup.ts"],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: "forks",
    reporters: ["default"],
  },
});
