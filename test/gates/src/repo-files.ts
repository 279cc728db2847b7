import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const repoRoot = join(import.meta.dirname, "../../..");

/** The repository's tracked and new (not ignored) files, so the gates see what a commit would hold. */
export function repoFiles(): string[] {
  return execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], {
    cwd: repoRoot,
    encoding: "utf8",
  })
    .split("\n")
    .filter((f) => f !== "");
}

export function readRepoFile(path: string): string {
  return readFileSync(join(repoRoot, path), "utf8");
}
