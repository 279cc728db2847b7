// Compares a documented example output (JSON as the model writes it: timestamps as ISO strings) with
// what the SDK returned from the emulator. Only members the example documents are compared; lists
// compare as "every documented item is present" (extra items are allowed, since one examples org
// answers all examples at once).
import { getShape } from "./smithy-model.ts";
import type { SmithyModel } from "./smithy-model.ts";

export interface CompareOptions {
  /** Paths (`Users[].Arn`, `Credentials`) not compared; a path ignores everything below it. */
  ignore?: readonly string[];
}

const show = (v: unknown): string =>
  (v instanceof Date ? v.toISOString() : (JSON.stringify(v) ?? "undefined")).slice(0, 120);

function ignored(path: string, opts: CompareOptions): boolean {
  return (opts.ignore ?? []).some((p) => path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`));
}

function compareValue(
  model: SmithyModel,
  shapeId: string,
  documented: unknown,
  actual: unknown,
  path: string,
  opts: CompareOptions,
): string[] {
  if (path !== "" && ignored(path, opts)) return [];
  const at = path === "" ? "$" : path;
  const shape = getShape(model, shapeId);
  if (actual === undefined || actual === null) return [`${at}: documented ${show(documented)}, got nothing`];
  switch (shape.type) {
    case "structure":
    case "union": {
      const doc = documented as Record<string, unknown>;
      const act = actual as Record<string, unknown>;
      const problems: string[] = [];
      for (const [k, v] of Object.entries(doc)) {
        const member = shape.members?.[k];
        const p = path === "" ? k : `${path}.${k}`;
        if (member === undefined) {
          problems.push(`${p}: documented member is not in the model`);
          continue;
        }
        problems.push(...compareValue(model, member.target, v, act[k], p, opts));
      }
      return problems;
    }
    case "list":
    case "set": {
      const item = shape.member;
      if (item === undefined || !Array.isArray(documented) || !Array.isArray(actual))
        return [`${at}: documented ${show(documented)}, got ${show(actual)}`];
      const problems: string[] = [];
      for (const d of documented) {
        const diffs = actual.map((a: unknown) => compareValue(model, item.target, d, a, `${path}[]`, opts));
        const best = diffs.reduce<string[] | undefined>(
          (b, x) => (b === undefined || x.length < b.length ? x : b),
          undefined,
        );
        if (best === undefined) problems.push(`${at}: documented item ${show(d)} missing (empty list)`);
        else if (best.length > 0)
          problems.push(
            `${at}: no item matches documented ${show(d)}; closest differs in: ${best.join("; ")}`,
          );
      }
      return problems;
    }
    case "map": {
      const val = shape.value;
      if (val === undefined) return [];
      const act = actual as Record<string, unknown>;
      return Object.entries(documented as Record<string, unknown>).flatMap(([k, v]) =>
        compareValue(model, val.target, v, act[k], `${path}[${k}]`, opts),
      );
    }
    case "timestamp": {
      const d = typeof documented === "number" ? new Date(documented * 1000) : new Date(String(documented));
      const a = actual instanceof Date ? actual : new Date(Number.NaN);
      return d.getTime() === a.getTime()
        ? []
        : [`${at}: documented ${show(documented)}, got ${show(actual)}`];
    }
    default:
      return documented === actual ? [] : [`${at}: documented ${show(documented)}, got ${show(actual)}`];
  }
}

/** Differences between a documented output and an actual deserialized output (empty when they agree). */
export function compareDocumented(
  model: SmithyModel,
  shapeId: string,
  documented: Record<string, unknown>,
  actual: unknown,
  opts: CompareOptions = {},
): string[] {
  return compareValue(model, shapeId, documented, actual, "", opts);
}
