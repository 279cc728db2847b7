// docs/bench/<stamp>-calls.svg: successful AWS calls per second per quota scope against its limit, grantline's run
// beside the sequential reference, drawn by hand so the benchmark needs no charting dependency.
import type { Rates } from "./floor.ts";
import { sec } from "./format.ts";
import type { Timeline } from "./sim-process.ts";

export interface ChartRun {
  title: string;
  timeline: Timeline;
  startEpoch: number;
  seconds: number;
}

export const PALETTE = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#9467bd",
  "#ff7f0e",
  "#8c564b",
  "#e377c2",
  "#17becf",
  "#bcbd22",
  "#7f7f7f",
];
/** The quota families that decide the floor; IAM/STS scopes (per account, far below their limits) are left out. */
const charted = (scope: string): boolean => /^(sso|identitystore|organizations):/.test(scope);
const onlyCharted = (t: Timeline): Timeline =>
  Object.fromEntries(Object.entries(t).filter(([k]) => charted(k)));

function scopeLabel(scope: string): string {
  if (scope.startsWith("sso:")) return "sso-admin (instance)";
  if (scope.startsWith("identitystore:")) return `identitystore ${scope.split(":").pop() ?? ""}`;
  return scope.replace(":", " ");
}

function scopeLimit(scope: string, rates: Rates): number {
  if (scope.startsWith("sso:")) return rates.sso;
  if (scope.startsWith("identitystore:")) return rates.identitystore;
  if (scope.startsWith("organizations:")) return rates.organizations;
  if (scope.startsWith("iam:")) return rates.iam;
  if (scope.startsWith("sts:")) return rates.sts;
  return rates.cloudtrail;
}

/** The scales and colours every panel of one chart shares, so the runs compare at a glance. */
interface Frame {
  w: number;
  h: number;
  maxT: number;
  maxY: number;
  colors: Map<string, string>;
  rates: Rates;
}

function panel(run: ChartRun, x0: number, frame: Frame): string {
  const { title, timeline, startEpoch } = run;
  const { w, h, maxT, maxY, colors, rates } = frame;
  const pad = { l: 50, r: 10, t: 30, b: 40 };
  const pw = w - pad.l - pad.r;
  const ph = h - pad.t - pad.b;
  const X = (t: number): number => x0 + pad.l + (t / maxT) * pw;
  const Y = (v: number): number => pad.t + ph - (v / maxY) * ph;
  const out: string[] = [];
  out.push(`<text x="${x0 + w / 2}" y="18" text-anchor="middle" font-weight="bold">${title}</text>`);
  out.push(`<rect x="${x0 + pad.l}" y="${pad.t}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  for (let i = 0; i <= 5; i++) {
    const v = (maxY / 5) * i;
    out.push(
      `<text x="${x0 + pad.l - 5}" y="${Y(v) + 4}" text-anchor="end" font-size="10">${Math.round(v)}</text>`,
    );
    const t = (maxT / 5) * i;
    out.push(
      `<text x="${X(t)}" y="${pad.t + ph + 14}" text-anchor="middle" font-size="10">${Math.round(t)}</text>`,
    );
  }
  out.push(
    `<text x="${x0 + pad.l + pw / 2}" y="${h - 8}" text-anchor="middle" font-size="11">seconds</text>`,
  );
  const limits = new Set<number>();
  for (const [scope, pts] of Object.entries(timeline)) {
    const color = colors.get(scope) ?? "#000";
    limits.add(scopeLimit(scope, rates));
    const byT = new Map(pts.map((p) => [p.t, p.calls - p.throttled]));
    const first = Math.floor(startEpoch);
    const last = Math.max(...pts.map((p) => p.t));
    const coords: string[] = [];
    for (let t = first; t <= last; t++) {
      const v = byT.get(t) ?? 0;
      coords.push(`${X(t - first).toFixed(1)},${Y(Math.min(v, maxY)).toFixed(1)}`);
    }
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.3" points="${coords.join(" ")}"/>`);
  }
  for (const l of limits) {
    out.push(
      `<line x1="${x0 + pad.l}" x2="${x0 + pad.l + pw}" y1="${Y(l)}" y2="${Y(l)}" stroke="#555" stroke-dasharray="5,4"/>`,
    );
    out.push(
      `<text x="${x0 + pad.l + pw - 4}" y="${Y(l) - 3}" text-anchor="end" font-size="10">limit ${l}/s</text>`,
    );
  }
  return out.join("\n");
}

export function svgChart(runs: ChartRun[], rates: Rates): string {
  const w = 560;
  const h = 320;
  const scopes = [...new Set(runs.flatMap((r) => Object.keys(r.timeline)))].sort();
  const colors = new Map(scopes.map((s, i) => [s, PALETTE[i % PALETTE.length]!]));
  const maxT = Math.max(10, ...runs.map((r) => r.seconds));
  const maxY = Math.max(...scopes.map((s) => scopeLimit(s, rates))) * 1.3;
  const legendH = 16 * Math.ceil(scopes.length / 3) + 10;
  const frame: Frame = { w, h, maxT, maxY, colors, rates };
  const body = runs.map((r, i) => panel(r, i * w, frame));
  const legend = scopes.map((s, i) => {
    const x = 60 + (i % 3) * 300;
    const y = h + 14 + Math.floor(i / 3) * 16;
    return `<line x1="${x}" x2="${x + 20}" y1="${y - 4}" y2="${y - 4}" stroke="${colors.get(s)}" stroke-width="2"/><text x="${x + 25}" y="${y}" font-size="11">${scopeLabel(s)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w * runs.length}" height="${h + legendH}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
${body.join("\n")}
${legend.join("\n")}
</svg>
`;
}

/** A run as the chart needs it: wall time, aws-sim's timeline and when the run started (epoch seconds). */
export interface ChartedSync {
  wallMs: number;
  timeline: Timeline;
  startEpoch: number;
}

/** The calls chart of grantline's run, beside the reference's when it ran. */
export function callsChart(
  o: { preset: string; scale: number; rates: Rates },
  grantline: ChartedSync,
  reference: ChartedSync | null,
): string {
  const runs: ChartRun[] = [
    {
      title: `grantline (${o.preset}, ×${o.scale}) — ${sec(grantline.wallMs)}`,
      timeline: onlyCharted(grantline.timeline),
      startEpoch: grantline.startEpoch,
      seconds: grantline.wallMs / 1000,
    },
  ];
  if (reference)
    runs.push({
      title: `reference, sequential — ${sec(reference.wallMs)}`,
      timeline: onlyCharted(reference.timeline),
      startEpoch: reference.startEpoch,
      seconds: reference.wallMs / 1000,
    });
  return svgChart(runs, o.rates);
}
