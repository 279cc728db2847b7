import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { waitFor } from "@grantline/testing";

describe("installShutdown", () => {
  it("exits 1 past its timeout and names the step it hung in", async () => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", fileURLToPath(new URL("./install-shutdown.fixture.ts", import.meta.url))],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    await waitFor(() => out.includes("ready"), { timeoutMs: 15_000 });
    child.kill("SIGTERM");
    expect(await exited).toBe(1);
    const line = out
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === "shutdown timed out");
    expect(line).toMatchObject({ step: "stuck", steps: { quick: expect.any(Number) } });
  });
});
