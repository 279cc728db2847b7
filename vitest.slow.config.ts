import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.ts";

// Heavier suites (medium/large organizations, long fault runs): `npm run test:slow`.
export default mergeConfig(
  base,
  defineConfig({
    test: { include: ["**/src/**/*.slow.test.ts"], exclude: ["**/node_modules/**"], testTimeout: 900_000 },
  }),
);
