// The provisioned dashboard checked against Grafana's own dashboard model (@grafana/schema, the types Grafana
// generates from the CUE schema it validates dashboards with). Grafana itself cannot run here (no image can be
// pulled, no package carries it), so the compiler does the schema check: the JSON is pasted into a TypeScript
// module as `<json> satisfies Dashboard`, where contextual typing checks every field, enum and nesting.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./k8s-render.ts";

const dashboardJson = readFileSync(join(repoRoot, "deploy/grafana/dashboards/grantline.json"), "utf8");

/** TypeScript's diagnostics for `json satisfies Dashboard`, as readable lines. */
function schemaErrors(json: string, name: string): string[] {
  // Inside the repository, so `@grafana/schema` resolves from its node_modules.
  const dir = join(repoRoot, "node_modules/.cache/grantline");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.ts`);
  writeFileSync(
    file,
    `import type { Dashboard } from "@grafana/schema";\nexport const dashboard = ${json.trim()} satisfies Dashboard;\n`,
  );
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
  });
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n").split("\n")[0] ?? "");
}

describe("the Grafana dashboard", () => {
  it("is a valid Grafana dashboard model (Grafana's schema types)", () => {
    expect(schemaErrors(dashboardJson, "dashboard-check")).toEqual([]);
  });

  it("the check catches a broken dashboard", () => {
    const broken = JSON.parse(dashboardJson) as { panels: Array<Record<string, unknown>> };
    broken.panels[0]!.gridPos = "full width";
    const errors = schemaErrors(JSON.stringify(broken), "dashboard-broken");
    expect(errors.join("\n")).toMatch(/gridPos|GridPos/);
  });

  it("has unique panel ids, non-overlapping grid positions and the provisioned datasource variable", () => {
    const d = JSON.parse(dashboardJson) as {
      uid: string;
      panels: Array<{
        id: number;
        gridPos: { x: number; y: number; w: number; h: number };
        datasource: { uid: string };
      }>;
      templating: { list: Array<{ name: string; type: string }> };
    };
    expect(d.uid).toBeTruthy();
    expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
    const cells = new Set<string>();
    for (const p of d.panels) {
      expect(p.gridPos.x + p.gridPos.w, `panel ${p.id}`).toBeLessThanOrEqual(24);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `panel ${p.id} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      expect(p.datasource.uid).toBe("${datasource}");
    }
    expect(d.templating.list.find((v) => v.name === "datasource")?.type).toBe("datasource");
  });
});
