import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";

describe("aws-sim CLI", () => {
  it("prints the URL and credentials, serves requests, and exits cleanly on SIGTERM", async () => {
    const bin = new URL("../bin/aws-sim.js", import.meta.url).pathname;
    const child = spawn(
      process.execPath,
      [bin, "--org", "tiny", "--seed", "3", "--port", "0", "--latency", "0-1", "--no-rate-limits"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m && out.includes("AWS_SECRET_ACCESS_KEY=")) resolve(m[1]!);
      });
      child.once("exit", (code) => reject(new Error(`exited early (${code}): ${out}`)));
    });
    expect(out).toMatch(/AWS_ACCESS_KEY_ID=AKIA[A-Z0-9]{16}/);
    const faults = (await (await fetch(`${url}/_sim/faults`)).json()) as {
      rateLimits: { enabled: boolean };
      latency: unknown;
    };
    expect(faults).toMatchObject({ rateLimits: { enabled: false }, latency: { minMs: 0, maxMs: 1 } });
    const code = await new Promise<number | null>((resolve) => {
      child.once("exit", (c) => resolve(c));
      child.kill("SIGTERM");
    });
    expect(code).toBe(0);
  });
});
