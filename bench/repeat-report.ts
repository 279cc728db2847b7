// `npm run bench -- --repeat N`: the same full sync N times, each against a fresh aws-sim, database and services,
// summarised by median and range. One run's CPU figure moves by ±3 % with the machine (docs/benchmarks.md): a
// change worth a few per cent is shown by medians of repeated runs, not by one run against another.
import { cpus } from "node:os";
import { isService } from "./cpu-per-call.ts";

/**
 * How many full syncs `--repeat` asks for, or why it cannot be done — checked before anything starts. `otherMode`:
 * freshness, provisioning, writer-only or redraw, which `--repeat` does not repeat; a CPU profile is of one run
 * (the summary reads every profile under its directory).
 */
export function repeatCount(o: { repeat: string; otherMode: boolean; cpuProf: boolean }): number {
  const n = Number(o.repeat);
  if (!(Number.isInteger(n) && n >= 1))
    throw new Error(`--repeat must be a whole number ≥ 1, not "${o.repeat}"`);
  if (n > 1 && o.otherMode) throw new Error("--repeat repeats the full sync only");
  if (n > 1 && o.cpuProf) throw new Error("--repeat and --cpu-prof do not go together: profile one run");
  return n;
}

/** What one run of the repeat contributes (the fields of its report's JSON summary). */
export interface RepeatRun {
  status: string;
  wallOverFloor: number;
  cpuS: Record<string, number>;
  cpuMsPerCall: number;
  cpuPerSimCpu: number | null;
  rowsMatchTruth: boolean;
  maxRssMb: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;
const spread = (xs: number[], d = 2): string =>
  `**${round(median(xs), d)}** (${round(Math.min(...xs), d)}–${round(Math.max(...xs), d)})`;

/** Each service's CPU ÷ aws-sim's in one run; fetcher replicas together as `fetchers`. */
function perSim(run: RepeatRun): Record<string, number> {
  const sim = run.cpuS["aws-sim"] ?? 0;
  const out: Record<string, number> = {};
  if (!(sim > 0)) return out;
  for (const [name, s] of Object.entries(run.cpuS)) {
    if (!isService(name)) continue;
    const key = name.startsWith("fetcher") ? "fetchers" : name;
    out[key] = (out[key] ?? 0) + s / sim;
  }
  return out;
}

/** The summary section of a repeat: one row per run, then medians and ranges. */
export function repeatReport(title: string, runs: RepeatRun[]): string[] {
  const ratios = runs.map((r) => r.cpuPerSimCpu).filter((x): x is number => x !== null);
  const services = [...new Set(runs.flatMap((r) => Object.keys(perSim(r))))];
  const rows = runs.map((r, i) => {
    const s = perSim(r);
    return `| ${i + 1} | ${r.status} | ${r.wallOverFloor} | ${r.cpuMsPerCall} | ${r.cpuS["aws-sim"] ?? "n/a"} | ${r.cpuPerSimCpu ?? "n/a"} | ${services.map((k) => round(s[k] ?? 0)).join(" | ")} | ${r.rowsMatchTruth ? "identical" : "differ"} | ${r.maxRssMb} |`;
  });
  return [
    `\n## ${new Date().toISOString()} — ${title}: ${runs.length} repeated runs\n`,
    `Each run against a fresh aws-sim, database and services (its own section above). Node ${process.version}, ${cpus().length} cores. Median (min–max):\n`,
    `| run | status | wall ÷ floor | services CPU ms per call | aws-sim CPU s | services ÷ aws-sim CPU | ${services.map((k) => `${k} ÷ aws-sim`).join(" | ")} | rows vs ground truth | max RSS MB |`,
    `| ---: | --- | ---: | ---: | ---: | ---: | ${services.map(() => "---:").join(" | ")} | --- | ---: |`,
    ...rows,
    "",
    `| figure | median (min–max) |`,
    `| --- | --- |`,
    `| services ÷ aws-sim CPU (machine-independent; issue 17's 4.5 ms ≈ 5.6) | ${ratios.length ? spread(ratios) : "n/a"} |`,
    ...services.map((k) => `| ${k} ÷ aws-sim CPU | ${spread(runs.map((r) => perSim(r)[k] ?? 0))} |`),
    `| wall ÷ floor | ${spread(
      runs.map((r) => r.wallOverFloor),
      3,
    )} |`,
    `| services CPU ms per AWS call (this machine) | ${spread(runs.map((r) => r.cpuMsPerCall))} |`,
    `| runs succeeded, rows equal to the ground truth | ${runs.filter((r) => r.status === "succeeded" && r.rowsMatchTruth).length} of ${runs.length} |`,
    `\n\`\`\`json\n${JSON.stringify({ kind: "repeat", at: new Date().toISOString(), title, ratioMedian: ratios.length ? round(median(ratios)) : null, runs })}\n\`\`\``,
  ];
}
