import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Preset } from "@grantline/aws-sim";
import { ROOT } from "./bench-env.ts";
import type { Rates } from "./floor.ts";

/** One benchmark's settings, from `npm run bench`'s options (see USAGE in run.ts) or the gate's fixed ones. */
export interface BenchSettings {
  preset: Preset;
  scale: number;
  /** aws-sim's latency per call, `MIN-MAX` ms. */
  latency: string;
  replicas: number;
  rates: Rates;
  /** IAM is synced only when its mappers are registered (the mapper would dead-letter its pages otherwise). */
  iamMapped: boolean;
  /** IAM in every active account (crossAccount), else the management account only. */
  iamAll: boolean;
  iamAccounts: string;
  /** `--env KEY=VALUE` (every service) or `--env writer:KEY=VALUE` (one service). */
  env: Record<string, string>;
  fromSource: boolean;
  timeoutMin: number;
  /** `--cpu-prof`: each service's node writes a .cpuprofile under `<cpuProfDir>/<service>/` when it exits. */
  cpuProfDir?: string;
}

export function envFor(settings: BenchSettings, service: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(settings.env)) {
    const i = k.indexOf(":");
    if (i < 0) out[k] = v;
    else if (k.slice(0, i) === service) out[k.slice(i + 1)] = v;
  }
  return out;
}

/** IAM is synced only when its mappers are registered (the mapper would dead-letter its pages otherwise). */
export function iamMappersRegistered(): boolean {
  return /["']iam\.[A-Za-z]+["']\s*:/.test(readFileSync(join(ROOT, "libs/model/src/map-page.ts"), "utf8"));
}
