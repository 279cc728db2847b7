import { describe, expect, it } from "vitest";
import { createLogger } from "@grantline/log";
import { createRefreshTick } from "./refresh-tick.ts";

const logger = createLogger({ service: "test", level: "silent" });

describe("the refresh tick", () => {
  it("the leader starts a refresh for each source with refreshes waiting; one failing does not stop the others", async () => {
    const started: string[] = [];
    const tick = (leader: boolean) =>
      createRefreshTick({
        isLeader: () => leader,
        waitingSources: async () => ["a", "boom", "b"],
        startRefresh: async (sourceId) => {
          if (sourceId === "boom") throw new Error("database is down");
          started.push(sourceId);
          return { runId: null, activeRunId: null };
        },
        logger,
      });
    await tick(false)();
    expect(started).toEqual([]);
    await tick(true)();
    expect(started).toEqual(["a", "b"]);
  });
});
