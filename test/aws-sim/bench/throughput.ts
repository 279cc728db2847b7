/**
 * Throughput benchmark (not a test): requests/s the simulator answers with rate limits and latency off.
 * The simulator runs in its own process (the CLI), the load generator in this one, so each gets a core.
 * Run: cd /work/main && node --import tsx test/aws-sim/bench/throughput.ts  → writes docs/aws-sim.md
 * Env: BENCH_MS (per workload, default 4000), BENCH_CONCURRENCY (default 32), BENCH_PRESET (default medium).
 */
import { IAMClient, ListUsersCommand } from "@aws-sdk/client-iam";
import { ListAccountAssignmentsCommand, SSOAdminClient } from "@aws-sdk/client-sso-admin";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { cpus, loadavg } from "node:os";
import { format } from "prettier";
import type { OrgDocument } from "../src/index.ts";

const DURATION_MS = Number(process.env.BENCH_MS ?? 4000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const PRESET = process.env.BENCH_PRESET ?? "medium";

interface Info {
  url: string;
  region: string;
  managementCredentials: { accessKeyId: string; secretAccessKey: string };
}

function rawCall(agent: Agent, url: URL, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: "/",
        method: "POST",
        agent,
        headers: { ...headers, "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function run(
  name: string,
  fn: () => Promise<unknown>,
): Promise<{ name: string; requests: number; rps: number; errors: number }> {
  let n = 0;
  let errors = 0;
  const end = Date.now() + DURATION_MS;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) {
        try {
          await fn();
          n++;
        } catch {
          errors++;
        }
      }
    }),
  );
  return { name, requests: n, rps: n / ((performance.now() - t0) / 1000), errors };
}

const loadBefore = loadavg()[0]!;
const bin = new URL("../bin/aws-sim.js", import.meta.url).pathname;
const child = spawn(
  process.execPath,
  [bin, "--org", PRESET, "--seed", "1", "--port", "0", "--no-rate-limits"],
  {
    stdio: ["ignore", "pipe", "inherit"],
  },
);
const base = await new Promise<string>((resolve, reject) => {
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    const m = /listening on (http:\/\/\S+)/.exec(out);
    if (m) resolve(m[1]!);
  });
  child.once("exit", (code) => reject(new Error(`aws-sim exited (${code}): ${out}`)));
});
try {
  const info = (await (await fetch(`${base}/_sim/info`)).json()) as Info;
  const org = (await (await fetch(`${base}/_sim/org`)).json()) as OrgDocument;
  const ic = org.identityCenter!;
  const a = ic.assignments[0]!;
  const url = new URL(base);
  const auth = (svc: string): string =>
    `AWS4-HMAC-SHA256 Credential=${info.managementCredentials.accessKeyId}/20250101/us-east-1/${svc}/aws4_request, SignedHeaders=host, Signature=0`;
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const expectOk = (s: number): void => {
    if (s !== 200) throw new Error(String(s));
  };
  const results = [];
  results.push(
    await run("raw HTTP IAM ListUsers (awsQuery/XML)", async () =>
      expectOk(
        await rawCall(
          agent,
          url,
          { "content-type": "application/x-www-form-urlencoded", authorization: auth("iam") },
          "Action=ListUsers&Version=2010-05-08",
        ),
      ),
    ),
  );
  const ssoBody = JSON.stringify({
    InstanceArn: ic.instanceArn,
    AccountId: a.accountId,
    PermissionSetArn: a.permissionSetArn,
  });
  results.push(
    await run("raw HTTP SSO ListAccountAssignments (awsJson1_1)", async () =>
      expectOk(
        await rawCall(
          agent,
          url,
          {
            "content-type": "application/x-amz-json-1.1",
            "x-amz-target": "SWBExternalService.ListAccountAssignments",
            authorization: auth("sso"),
          },
          ssoBody,
        ),
      ),
    ),
  );
  const cfg = { endpoint: base, region: info.region, credentials: info.managementCredentials };
  const iam = new IAMClient(cfg);
  results.push(
    await run("SDK v3 IAMClient ListUsers", () => iam.send(new ListUsersCommand({ MaxItems: 10 }))),
  );
  const sso = new SSOAdminClient(cfg);
  results.push(
    await run("SDK v3 SSOAdminClient ListAccountAssignments", () =>
      sso.send(
        new ListAccountAssignmentsCommand({
          InstanceArn: ic.instanceArn,
          AccountId: a.accountId,
          PermissionSetArn: a.permissionSetArn,
        }),
      ),
    ),
  );
  agent.destroy();
  const lines = [
    "# aws-sim throughput",
    "",
    `Measured ${new Date().toISOString()} with \`node --import tsx test/aws-sim/bench/throughput.ts\`: preset \`${PRESET}\`, rate limits and latency off,`,
    `${CONCURRENCY} concurrent callers for ${DURATION_MS / 1000} s per workload. The simulator runs in its own process (the CLI); the load generator in another;`,
    `Node ${process.version}, ${cpus().length} CPU(s) (${cpus()[0]?.model ?? "?"}).`,
    `1-minute load average before the run: ${loadBefore.toFixed(2)} (other processes on the machine lower the numbers).`,
    "",
    "| Workload | Requests | Errors | Requests/s |",
    "|---|---:|---:|---:|",
    ...results.map((r) => `| ${r.name} | ${r.requests} | ${r.errors} | ${Math.round(r.rps)} |`),
    "",
    "Target: ≥ 2,000 simple requests/s. The SDK rows are bounded by the client (SigV4 signing, XML/JSON parsing, middleware)",
    "in the single load-generator process, not by the simulator.",
    "",
  ];
  // The throughput section is regenerated; the sections after it (CloudTrail…) are kept.
  const doc = new URL("../../../docs/aws-sim.md", import.meta.url);
  const kept = existsSync(doc)
    ? readFileSync(doc, "utf8")
        .split(/^(?=## )/m)
        .slice(1)
        .join("")
    : "";
  writeFileSync(doc, await format([...lines, kept].join("\n"), { parser: "markdown", printWidth: 110 }));
  console.log(lines.join("\n"));
} finally {
  child.removeAllListeners("exit");
  child.kill("SIGTERM");
}
