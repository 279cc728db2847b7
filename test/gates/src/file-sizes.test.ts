// Shape rules a reviewer should not have to count: mains only wire, and no file grows into a god file unless
// its first line says why (`// size: <reason>`).
import { describe, expect, it } from "vitest";
import { readRepoFile, repoFiles } from "./repo-files.ts";

const MAIN_MAX_LINES = 80;
const FILE_MAX_LINES = 400;

const lines = (text: string) => text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
const sources = repoFiles().filter(
  (f) => /\.(ts|mjs)$/.test(f) && !/\.test\.ts$|\/__fixtures__\//.test(f) && !f.startsWith("node_modules/"),
);

describe("file sizes", () => {
  it.each(sources.filter((f) => /^services\/[^/]+\/src\/main\.ts$/.test(f)))(
    "%s only wires (at most 80 lines)",
    (file) => {
      expect(lines(readRepoFile(file))).toBeLessThanOrEqual(MAIN_MAX_LINES);
    },
  );

  it("no source file over 400 lines without a one-line reason at its top", () => {
    const oversized = sources
      .map((file) => ({ file, text: readRepoFile(file) }))
      .filter(({ text }) => lines(text) > FILE_MAX_LINES && !/^\/\/ size: \S.{8,}/.test(text))
      .map(({ file, text }) => `${file} (${lines(text)} lines)`);
    expect(oversized).toEqual([]);
  });
});
