import { defineConfig } from "vitest/config";
import base from "./vitest.config.ts";

// Heavier suites (medium/large organizations, long fault runs, restarts of the machine's NATS/Redis/Postgres):
// `npm run test:slow`. Built from the base config rather than merged with it: mergeConfig concatenates arrays,
// which would add every regular test and keep the base's exclusion of `*.slow.test.ts`.
// Files run one at a time because some restart shared services.
export default defineConfig({
  test: {
    ...base.test,
    include: ["**/src/**/*.slow.test.ts"],
    exclude: ["**/node_modules/**"],
    testTimeout: 900_000,
    hookTimeout: 300_000,
    fileParallelism: false,
  },
});
