import { z } from "zod";
import { mulberry32 } from "./ids.ts";
import type { Rng } from "./ids.ts";

/**
 * CloudTrail's delivery delay (event time → visible in LookupEvents). AWS documents "about 5 minutes on average, not
 * guaranteed" and no order: a distribution, not a constant, is what makes events appear out of order.
 */
export const TrailDelay = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("fixed"), ms: z.number().int().min(0) }),
  z
    .object({ kind: z.literal("uniform"), minMs: z.number().int().min(0), maxMs: z.number().int().min(0) })
    .refine((d) => d.maxMs >= d.minMs, "uniform: need minMs <= maxMs"),
  z
    .object({
      kind: z.literal("lognormal"),
      medianMs: z.number().positive(),
      p95Ms: z.number().positive(),
      /** Samples above are clamped: CloudTrail's tail is long but a test needs a bound to wait for. */
      maxMs: z.number().int().min(0).optional(),
    })
    .refine((d) => d.p95Ms >= d.medianMs, "lognormal: need medianMs <= p95Ms")
    .refine((d) => d.maxMs === undefined || d.maxMs >= d.medianMs, "lognormal: need maxMs >= medianMs"),
]);
export type TrailDelay = z.infer<typeof TrailDelay>;

/** The longest delay a distribution can produce (Infinity for an unbounded lognormal). */
export function maxTrailDelayMs(d: TrailDelay): number {
  return d.kind === "fixed" ? d.ms : d.kind === "uniform" ? d.maxMs : (d.maxMs ?? Infinity);
}

const Z95 = 1.6448536269514722;

/** A sampler of delays (ms, integers) drawn from `d` with a seeded PRNG (deterministic for a given seed). */
export function trailDelaySampler(d: TrailDelay, seed: number): () => number {
  const rng: Rng = mulberry32(seed);
  switch (d.kind) {
    case "fixed":
      return () => d.ms;
    case "uniform":
      return () => Math.round(d.minMs + rng() * (d.maxMs - d.minMs));
    case "lognormal": {
      const mu = Math.log(d.medianMs);
      const sigma = (Math.log(d.p95Ms) - mu) / Z95;
      return () => {
        // Box–Muller: one standard normal from two uniforms (1 - u keeps the log finite).
        const z = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
        const v = Math.round(Math.exp(mu + sigma * z));
        return d.maxMs === undefined ? v : Math.min(v, d.maxMs);
      };
    }
  }
}

/**
 * CLI form: `MS` (fixed), `uniform:MIN-MAX`, `lognormal:MEDIAN,P95[,MAX]` (milliseconds), or the JSON of a TrailDelay.
 */
export function parseTrailDelay(s: string, flag = "--cloudtrail-delay"): TrailDelay {
  const t = s.trim();
  if (t.startsWith("{")) return TrailDelay.parse(JSON.parse(t));
  if (/^\d+$/.test(t)) return { kind: "fixed", ms: Number(t) };
  const u = /^uniform:(\d+)-(\d+)$/.exec(t);
  if (u) return TrailDelay.parse({ kind: "uniform", minMs: Number(u[1]), maxMs: Number(u[2]) });
  const l = /^lognormal:(\d+),(\d+)(?:,(\d+))?$/.exec(t);
  if (l)
    return TrailDelay.parse({
      kind: "lognormal",
      medianMs: Number(l[1]),
      p95Ms: Number(l[2]),
      ...(l[3] !== undefined ? { maxMs: Number(l[3]) } : {}),
    });
  throw new Error(
    `${flag}: expected MS, uniform:MIN-MAX or lognormal:MEDIAN,P95[,MAX] (milliseconds), got "${s}"`,
  );
}
