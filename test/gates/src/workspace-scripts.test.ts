// turbo runs each workspace's own checks (turbo.json); a workspace without them would silently drop out of
// `npm run check`. scripts/sync-workspace-scripts.mjs writes them.
import { describe, expect, it } from "vitest";
import { readRepoFile, repoFiles } from "./repo-files.ts";

const workspaces = repoFiles()
  .filter((f) => /^(libs|services|test)\/[^/]+\/package\.json$|^cli\/package\.json$/.test(f))
  .map((f) => f.slice(0, -"/package.json".length));

describe("workspace scripts", () => {
  it.each(workspaces)("%s has typecheck, lint and test scripts and a tsconfig", (dir) => {
    const pkg = JSON.parse(readRepoFile(`${dir}/package.json`)) as { scripts?: Record<string, string> };
    expect(pkg.scripts).toMatchObject({
      typecheck: "tsc -p tsconfig.json",
      lint: "eslint . --max-warnings 0",
      test: expect.stringContaining(`${dir}/`),
    });
    expect(() => JSON.parse(readRepoFile(`${dir}/tsconfig.json`)) as unknown).not.toThrow();
  });
});
