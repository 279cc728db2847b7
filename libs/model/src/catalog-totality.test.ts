import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { typeCheckScratch } from "@grantline/testing";

// The catalog's promise: an operation without its mapper or AWS spec — or a task naming an operation outside
// the catalog — fails typecheck, not a run. Proven on scratch copies of the real files, so the test breaks if
// the maps stop being total (a `Record<string, …>` again), not only if someone forgets an entry.
const modelDir = new URL(".", import.meta.url);
const awsDir = new URL("../../aws/src/", import.meta.url);
const mapPage = readFileSync(new URL("map-page.ts", modelDir), "utf8");
const operations = readFileSync(new URL("operations.ts", awsDir), "utf8");

/** `source` without the one line that starts with `"<key>":` (a map entry). */
function withoutEntry(source: string, key: string): string {
  const out = source.replace(new RegExp(`^\\s*"${key.replace(/[.]/g, "\\.")}": .*\\n`, "m"), "");
  if (out === source) throw new Error(`no one-line entry "${key}" to remove`);
  return out;
}

describe("the operation catalog is total", () => {
  it("tsc fails when an operation's mapper or AWS spec is missing, or a mapper, task or reserved call contradicts it", () => {
    const { byModule, others } = typeCheckScratch({
      mapPage: { dir: modelDir, source: mapPage },
      operations: { dir: awsDir, source: operations },
      noMapper: { dir: modelDir, source: withoutEntry(mapPage, "iam.ListAccountAliases") },
      noSpec: { dir: awsDir, source: withoutEntry(operations, "sts.GetCallerIdentity") },
      // A catalog operation also listed among the calls no page names.
      reservedPage: {
        dir: awsDir,
        source: operations.replace(
          "const RESERVED_SPECS = {",
          'const RESERVED_SPECS = {\n  "iam.ListAccessKeys": { command: iam.ListAccessKeysCommand },',
        ),
      },
      // A mapper for an operation the catalog does not have.
      notInCatalog: {
        dir: modelDir,
        source: mapPage.replace(
          '"diag.Pages": mapDiagPage,',
          '"diag.Pages": mapDiagPage,\n  "iam.ListUsers": mapDiagPage,',
        ),
      },
      // A child task naming an operation the catalog does not have.
      uncataloguedChild: {
        dir: new URL("aws/", modelDir),
        source: [
          'import type { PageRequest } from "@grantline/contracts";',
          'import { child } from "./page-helpers.ts";',
          'export const ok = (r: PageRequest) => child(r, "iam", "ListAccessKeys", {}, null);',
          'export const bad = (r: PageRequest) => child(r, "iam", "ListUsers", {}, null);',
        ].join("\n"),
      },
    });

    // The real files, copied as they are, compile: the scratch set-up itself is sound.
    expect(others).toEqual([]);
    expect(byModule.mapPage).toEqual([]);
    expect(byModule.operations).toEqual([]);

    expect(byModule.noMapper).toEqual([
      expect.objectContaining({ code: 2741, message: expect.stringContaining(`'"iam.ListAccountAliases"'`) }),
    ]);
    expect(byModule.noSpec).toEqual([
      expect.objectContaining({ code: 2741, message: expect.stringContaining(`'"sts.GetCallerIdentity"'`) }),
    ]);
    // Reported at the inserted entry, the line after `const RESERVED_SPECS = {`.
    const reservedAt = operations.split("\n").findIndex((l) => l.startsWith("const RESERVED_SPECS = {")) + 2;
    expect(byModule.reservedPage).toEqual([
      expect.objectContaining({
        code: 2322,
        line: reservedAt,
        message: expect.stringContaining("ListAccessKeys"),
      }),
    ]);
    expect(byModule.notInCatalog).toEqual([
      expect.objectContaining({ code: 2353, message: expect.stringContaining('"iam.ListUsers"') }),
    ]);
    expect(byModule.uncataloguedChild).toEqual([
      expect.objectContaining({ code: 2345, line: 4, message: expect.stringContaining('"ListUsers"') }),
    ]);
  });
});
