import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { Preset } from "./generate-org.ts";
import { OrgDocument } from "./org-document.ts";
import { startAwsSim } from "./sim.ts";
import { parseTrailDelay } from "./trail-delay.ts";

const { values } = parseArgs({
  options: {
    org: { type: "string", default: "small" },
    seed: { type: "string", default: "1" },
    port: { type: "string", default: "4566" },
    host: { type: "string", default: "127.0.0.1" },
    file: { type: "string" },
    "no-rate-limits": { type: "boolean", default: false },
    latency: { type: "string" },
    "error-rate": { type: "string", default: "0" },
    "cloudtrail-delay": { type: "string", default: "0" },
    "cloudtrail-delay-seed": { type: "string" },
    "no-cloudtrail-reads": { type: "boolean", default: false },
    "identity-center-region": { type: "string", default: "us-east-1" },
    "assignment-delay": { type: "string", default: "0" },
    "assignment-delay-seed": { type: "string" },
    "assignment-cap": { type: "string", default: "15" },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(
    "aws-sim [--org tiny|small|medium|large] [--seed N] [--port 4566] [--host 127.0.0.1] [--file org.json] [--no-rate-limits] [--latency MIN-MAX] [--error-rate 0.01] [--cloudtrail-delay MS|uniform:MIN-MAX|lognormal:MEDIAN,P95[,MAX]] [--cloudtrail-delay-seed N] [--no-cloudtrail-reads] [--identity-center-region us-east-1] [--assignment-delay MS|uniform:MIN-MAX|lognormal:MEDIAN,P95[,MAX]] [--assignment-delay-seed N] [--assignment-cap 15]",
  );
  process.exit(0);
}
const presets = ["tiny", "small", "medium", "large"];
if (!values.file && !presets.includes(values.org))
  throw new Error(`--org must be one of ${presets.join(", ")}`);
let latency: { minMs: number; maxMs: number } | null = null;
if (values.latency) {
  const [a, b] = values.latency.split("-").map(Number);
  latency = { minMs: a ?? 0, maxMs: b ?? a ?? 0 };
}
const sim = await startAwsSim({
  org: values.file ? OrgDocument.parse(JSON.parse(readFileSync(values.file, "utf8"))) : undefined,
  preset: values.org as Preset,
  seed: Number(values.seed),
  port: Number(values.port),
  host: values.host,
  rateLimits: !values["no-rate-limits"],
  latency,
  errorRate: Number(values["error-rate"]),
  cloudTrailDelay: parseTrailDelay(values["cloudtrail-delay"]),
  ...(values["cloudtrail-delay-seed"] !== undefined
    ? { cloudTrailDelaySeed: Number(values["cloudtrail-delay-seed"]) }
    : {}),
  cloudTrailReadEvents: !values["no-cloudtrail-reads"],
  identityCenterRegion: values["identity-center-region"],
  assignmentDelay: parseTrailDelay(values["assignment-delay"], "--assignment-delay"),
  ...(values["assignment-delay-seed"] !== undefined
    ? { assignmentDelaySeed: Number(values["assignment-delay-seed"]) }
    : {}),
  assignmentOutstandingCap: Number(values["assignment-cap"]),
});
console.log(`aws-sim listening on ${sim.url}`);
console.log(`region ${sim.region}; management account ${sim.managementAccountId}`);
console.log(`AWS_ACCESS_KEY_ID=${sim.managementCredentials.accessKeyId}`);
console.log(`AWS_SECRET_ACCESS_KEY=${sim.managementCredentials.secretAccessKey}`);
if (sim.instanceArn) console.log(`instance ${sim.instanceArn}; identity store ${sim.identityStoreId}`);
const stop = (): void => {
  sim.close().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
