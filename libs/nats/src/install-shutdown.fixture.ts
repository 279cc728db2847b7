// Run by install-shutdown.test.ts as its own process: a shutdown whose second step never finishes.
import { createLogger } from "@grantline/log";
import { installShutdown } from "./install-shutdown.ts";

installShutdown({
  logger: createLogger({ service: "fixture" }),
  timeoutMs: 500,
  steps: [
    { name: "quick", run: async () => undefined },
    { name: "stuck", run: () => new Promise(() => undefined) },
  ],
});
setInterval(() => undefined, 1_000);
console.log("ready");
