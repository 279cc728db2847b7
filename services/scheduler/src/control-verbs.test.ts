import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";

// Inside the package, so the scratch file resolves @grantline/* exactly as the real sources do.
const here = fileURLToPath(new URL(".", import.meta.url));
const scratch = mkdtempSync(join(here, "..", ".typecheck-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const withoutCancel = join(scratch, "without-cancel.ts");
writeFileSync(
  withoutCancel,
  `import type { ControlHandlers } from "@grantline/nats";
export const handlers: ControlHandlers = {
  sync: async () => ({ ok: false, error: "x" }),
  status: async () => ({ ok: false, error: "x" }),
  refresh: async () => ({ ok: false, error: "x" }),
  grant: async () => ({ ok: false, error: "x" }),
  revoke: async () => ({ ok: false, error: "x" }),
  grants: async () => ({ ok: false, error: "x" }),
};
`,
);
const real = join(here, "control-handlers.ts");

// One program for both files (the compiler's time goes into loading what they import, which they share).
const program = ts.createProgram([withoutCancel, real], {
  strict: true,
  noUncheckedIndexedAccess: true,
  noEmit: true,
  skipLibCheck: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  allowImportingTsExtensions: true,
  types: ["node"],
});

/** Type errors reported in `file` (declaration files of dependencies are not checked). */
function typeErrors(file: string): Array<{ code: number; text: string }> {
  return ts
    .getPreEmitDiagnostics(program, program.getSourceFile(file))
    .map((d) => ({ code: d.code, text: ts.flattenDiagnosticMessageText(d.messageText, "\n") }));
}

describe("control verbs are a total map", () => {
  it("a handler map without the cancel handler fails typecheck", () => {
    expect(typeErrors(withoutCancel)).toEqual([
      { code: 2741, text: expect.stringMatching(/Property 'cancel' is missing in type/) },
    ]);
  });

  it("the scheduler's control handlers compile", () => {
    expect(typeErrors(real)).toEqual([]);
    // …and so does everything it imports (the program holds both files' imports).
    expect(ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName !== withoutCancel)).toEqual([]);
  });
});
