// Every metric the Grafana dashboard and the Prometheus alert rules query must be one the services export:
// the shared metrics of createMetrics (prom-client defaults + grantline_messages_total / _duration_seconds) and
// each service's own counters, gauges and histograms found in its source.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parser as promql } from "@prometheus-io/lezer-promql";
import { parse as parseYaml } from "yaml";
import { createMetrics } from "@grantline/observability";
import { repoRoot } from "./k8s-render.ts";

/** Prometheus' own series (added by the scrape, not by the services). */
const SCRAPE_METRICS = new Set(["up", "scrape_duration_seconds", "scrape_samples_scraped"]);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== "node_modules" && e.name !== "__fixtures__") out.push(...sourceFiles(p));
    } else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

async function exportedMetricNames(): Promise<Set<string>> {
  const names = new Set<string>(SCRAPE_METRICS);
  const add = (name: string, type: string) => {
    names.add(name);
    if (type === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(name + s);
    if (type === "summary") for (const s of ["_sum", "_count"]) names.add(name + s);
  };
  // The shared metrics every service has (defaults included), from a real Metrics object.
  const metrics = createMetrics({ service: "deploy-test" });
  for (const m of await metrics.registry.getMetricsAsJSON()) add(m.name, String(m.type));
  // Service-specific metrics: metrics.counter|gauge|histogram("grantline_…", …) in libs and services.
  const call = /\.(counter|gauge|histogram)\(\s*"(grantline_[a-z0-9_]+)"/g;
  for (const dir of ["services", "libs", "cli/src"])
    for (const f of sourceFiles(join(repoRoot, dir)))
      for (const m of readFileSync(f, "utf8").matchAll(call)) add(m[2]!, m[1]!);
  return names;
}

const FUNCTIONS_AND_KEYWORDS = new Set([
  "sum",
  "min",
  "max",
  "avg",
  "count",
  "stddev",
  "stdvar",
  "topk",
  "bottomk",
  "quantile",
  "count_values",
  "group",
  "rate",
  "irate",
  "increase",
  "delta",
  "idelta",
  "deriv",
  "histogram_quantile",
  "abs",
  "clamp_min",
  "clamp_max",
  "label_values",
  "label_replace",
  "vector",
  "scalar",
  "time",
  "absent",
  "absent_over_time",
  "changes",
  "resets",
  "max_over_time",
  "min_over_time",
  "avg_over_time",
  "sum_over_time",
  "last_over_time",
  "predict_linear",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "and",
  "or",
  "unless",
  "bool",
  "offset",
  "humanize",
  "humanizePercentage",
  "le",
]);

/** Metric names in a PromQL expression (label matchers, grouping labels, strings and ranges removed). */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, "{}")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\[[^\]]*\]/g, "[]")
    .replace(/\$\{?\w+\}?/g, " ");
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![a-zA-Z0-9_:]|\s*\()/g)) {
    const id = m[1]!;
    if (!FUNCTIONS_AND_KEYWORDS.has(id) && !/^(e|inf|nan)$/i.test(id)) names.add(id);
  }
  return [...names];
}

function dashboardExprs(): Array<{ where: string; expr: string }> {
  const d = JSON.parse(readFileSync(join(repoRoot, "deploy/grafana/dashboards/grantline.json"), "utf8")) as {
    panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    templating: { list: Array<{ name: string; query?: unknown }> };
  };
  const out = d.panels.flatMap((p) => p.targets.map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })));
  for (const v of d.templating.list) {
    const m = typeof v.query === "string" ? /label_values\(([^,)]+)/.exec(v.query) : null;
    if (m) out.push({ where: `variable ${v.name}`, expr: m[1]! });
  }
  return out;
}

function alertExprs(): Array<{ where: string; expr: string }> {
  const a = parseYaml(readFileSync(join(repoRoot, "deploy/prometheus/alerts.yml"), "utf8")) as {
    groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
  };
  return a.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })));
}

describe("dashboard and alert metrics", () => {
  it("the PromQL name extractor finds names and skips functions, labels and strings", () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.95, sum by (le, stage) (rate(grantline_message_duration_seconds_bucket{job=~"x"}[5m]))) / up',
      ).sort(),
    ).toEqual(["grantline_message_duration_seconds_bucket", "up"]);
  });

  it("every metric queried by the Grafana dashboard and the alert rules is exported by a service", async () => {
    const exported = await exportedMetricNames();
    expect(exported.has("grantline_messages_total")).toBe(true);
    expect(exported.has("grantline_aws_calls_total")).toBe(true);
    expect(exported.has("process_resident_memory_bytes")).toBe(true);
    const exprs = [...dashboardExprs(), ...alertExprs()];
    expect(exprs.length).toBeGreaterThan(15);
    const unknown: string[] = [];
    const used = new Set<string>();
    for (const { where, expr } of exprs)
      for (const n of metricNamesIn(expr)) {
        used.add(n);
        if (!exported.has(n)) unknown.push(`${where}: ${n}`);
      }
    expect(unknown).toEqual([]);
    // The core signals are on the dashboard.
    for (const n of [
      "grantline_run_tasks",
      "grantline_aws_calls_total",
      "grantline_writer_rows_total",
      "grantline_message_duration_seconds_bucket",
      "grantline_messages_total",
      "grantline_consumer_messages",
      "grantline_dead_letters",
      "grantline_aws_breaker_open",
      "grantline_aws_budget_grants_total",
      "grantline_aws_budget_limit_per_second",
      "grantline_aws_budget_wait_seconds_bucket",
    ])
      expect(used.has(n), n).toBe(true);
  });

  it("every dashboard and alert expression is valid PromQL (Prometheus' own grammar)", () => {
    const invalid: string[] = [];
    for (const { where, expr } of [...dashboardExprs(), ...alertExprs()]) {
      // Grafana's variables, as Grafana substitutes them before the query reaches Prometheus.
      const q = expr.replaceAll("$__rate_interval", "5m").replaceAll("$source", ".*");
      let bad: string | null = null;
      promql.parse(q).iterate({
        enter: (n) => {
          if (n.type.isError && bad === null)
            bad = `at ${n.from}: ${q.slice(n.from, n.from + 30) || "<end>"}`;
        },
      });
      if (bad !== null) invalid.push(`${where}: ${bad}`);
    }
    expect(invalid).toEqual([]);
    // The check itself catches a broken expression.
    let caught = false;
    promql.parse("sum by (x (rate(foo[5m]))").iterate({ enter: (n) => void (caught ||= n.type.isError) });
    expect(caught).toBe(true);
  });

  it("alert rules are complete (name, expression, severity, summary)", () => {
    const a = parseYaml(readFileSync(join(repoRoot, "deploy/prometheus/alerts.yml"), "utf8")) as {
      groups: Array<{ rules: Array<Record<string, any>> }>; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const rules = a.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        "GrantlineRunFailed",
        "GrantlineDeadLettersGrowing",
        "GrantlineRunStalled",
        "GrantlineAwsBreakerOpen",
        "GrantlineConsumerLagGrowing",
      ]),
    );
    for (const r of rules) {
      expect(r.expr, r.alert).toBeTruthy();
      expect(r.labels?.severity, r.alert).toMatch(/^(critical|warning|info)$/);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
    }
  });
});
