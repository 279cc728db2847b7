import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EXPANDING_SLUGS, FixedEntitlementSlug } from "@grantline/contracts";

// Applied migrations are history and keep their literals; the model emits the contract's slugs. If either side
// changes, `effective_grants` silently stops expanding groups and roles — this test makes that drift fail.
const dir = new URL("./migrations/", import.meta.url);
const migrations = readdirSync(dir)
  .filter((f) => f.endsWith(".ts"))
  .map((f) => ({ file: f, text: readFileSync(new URL(f, dir), "utf8") }));

describe("slugs hard-coded in the migrations", () => {
  it("are the contract's: `slug = '…'` a fixed slug, `slug IN (…)` exactly the expanding ones", () => {
    const single: string[] = [];
    const lists: string[][] = [];
    for (const { text } of migrations) {
      for (const m of text.matchAll(/slug\s*=\s*'([^']*)'/g)) single.push(m[1]!);
      for (const m of text.matchAll(/slug\s+IN\s*\(([^)]*)\)/gi))
        lists.push([...m[1]!.matchAll(/'([^']*)'/g)].map((x) => x[1]!));
    }
    expect(single.length + lists.length).toBeGreaterThan(0);
    for (const s of single) expect(FixedEntitlementSlug.options).toContain(s);
    expect(single).toContain(FixedEntitlementSlug.enum.member);
    for (const l of lists) expect([...l].sort()).toEqual([...EXPANDING_SLUGS].sort());
  });

  it("each literal carries a comment naming its contract constant", () => {
    for (const { file, text } of migrations)
      for (const line of text.split("\n").filter((l) => /slug\s*(=|IN)\s*\(?'/i.test(l)))
        expect(line, file).toMatch(
          /-- (FixedEntitlementSlug\.enum\.\w+|EXPANDING_SLUGS), @grantline\/contracts/,
        );
  });
});
