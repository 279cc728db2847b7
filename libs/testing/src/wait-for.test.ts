import { describe, expect, it } from "vitest";
import { waitFor } from "./wait-for.ts";

describe("waitFor", () => {
  it("returns the first truthy value", async () => {
    let n = 0;
    await expect(waitFor(() => (++n >= 3 ? n : 0), { intervalMs: 1 })).resolves.toBe(3);
  });
  it("fails with the condition's last error", async () => {
    await expect(
      waitFor(
        () => {
          throw new Error("not yet");
        },
        { timeoutMs: 30, intervalMs: 5 },
      ),
    ).rejects.toThrow(/not yet/);
  });
});
