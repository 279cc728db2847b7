import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** A module to type-check as if it sat in `dir`: its relative imports resolve from there. */
export interface ScratchModule {
  /** e.g. `new URL(".", import.meta.url)` for a copy of a file beside the test. */
  dir: string | URL;
  source: string;
}

export interface TypeDiagnostic {
  /** The TS error number: 2741 is "Property 'x' is missing in type…". */
  code: number;
  message: string;
  /** 1-based. */
  line: number;
}

const BASE_TSCONFIG = fileURLToPath(new URL("../../../tsconfig.base.json", import.meta.url));

// Rewrites `./x` and `../x` so they still point at `dir` from one directory further down (the scratch dir).
const RELATIVE = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/)/g;

/**
 * Type-checks scratch modules with the repo's compiler options in one program, and returns each module's
 * diagnostics by name (`others` collects any outside them). Proves what `tsc` would say about a file changed
 * in a way the repo must never contain — a catalog entry without its mapper — without touching the real file.
 * Only the scratch modules are checked; what they import is read for types, not checked itself, so a case
 * costs seconds, not a whole-repo typecheck.
 *
 * Each module is written to a temporary directory inside its `dir` (so package imports resolve through the
 * repo's node_modules), removed again before returning.
 *
 * @example
 * const src = readFileSync(new URL("./map-page.ts", import.meta.url), "utf8");
 * const { byModule } = typeCheckScratch({ omitted: { dir: new URL(".", import.meta.url), source: withoutOne(src) } });
 * expect(byModule.omitted).toContainEqual(expect.objectContaining({ code: 2741 }));
 */
export function typeCheckScratch(modules: Record<string, ScratchModule>): {
  byModule: Record<string, TypeDiagnostic[]>;
  others: TypeDiagnostic[];
} {
  const made: string[] = [];
  try {
    const files = new Map<string, string>();
    for (const [name, m] of Object.entries(modules)) {
      const dir = typeof m.dir === "string" ? m.dir : fileURLToPath(m.dir);
      const scratch = mkdtempSync(join(dir, ".typecheck-"));
      made.push(scratch);
      const file = join(scratch, `${name}.ts`);
      writeFileSync(file, m.source.replace(RELATIVE, "$1$2../$3"));
      files.set(file, name);
    }
    const config = ts.getParsedCommandLineOfConfigFile(
      BASE_TSCONFIG,
      { skipLibCheck: true, noEmit: true },
      { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
    );
    if (!config) throw new Error(`cannot read ${BASE_TSCONFIG}`);
    const program = ts.createProgram({ rootNames: [...files.keys()], options: config.options });
    const byModule: Record<string, TypeDiagnostic[]> = Object.fromEntries(
      Object.keys(modules).map((n) => [n, []]),
    );
    const others: TypeDiagnostic[] = [];
    const diagnostics = [
      ...program.getOptionsDiagnostics(),
      ...program.getGlobalDiagnostics(),
      ...[...files.keys()].flatMap((f) => {
        const sf = program.getSourceFile(f);
        return sf ? [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)] : [];
      }),
    ];
    for (const d of diagnostics) {
      const out: TypeDiagnostic = {
        code: d.code,
        message: ts.flattenDiagnosticMessageText(d.messageText, "\n"),
        line: d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0,
      };
      const name = d.file ? files.get(d.file.fileName) : undefined;
      (name === undefined ? others : byModule[name]!).push(out);
    }
    return { byModule, others };
  } finally {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  }
}
