import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.ts";

// Heavier suites (medium/large organizations, long fault runs, restarts of the machine's NATS/Redis/Postgres):
// `npm run test:slow`. Files run one at a time because some restart shared services.
// Files run one at a time: some restart shared services.
export default mergeConfig(
  base,
  defineConfig({
    test: {
      include: ["**/src/**/*.slow.test.ts"],
      exclude: ["**/node_modules/**"],
      testTimeout: 900_000,
      hookTimeout: 300_000,
      fileParallelism: false,
    },
  }),
);
