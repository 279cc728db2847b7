import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { FetcherEnv, MapperEnv, SchedulerEnv, WriterEnv } from "./load-config.ts";

// A setting that is parsed and documented but read by nothing lies to whoever sets it (four fetcher settings
// once did). For every key of a service's schema this finds code that reads it, outside libs/config.

const root = fileURLToPath(new URL("../../../", import.meta.url));

/** A library the service hands its whole config object to; keys read there count as used. */
interface PassThrough {
  lib: string;
  /** The hand-over, which must appear in the service's code (or in `in`, a lib the service hands config to). */
  via: RegExp;
  in?: string;
  why: string;
}

const runtime: PassThrough = {
  lib: "libs/nats/src",
  via: /\brunService\(\s*"[a-z]+",\s*config\b/,
  why: "runService(name, config, …) reads NATS_URL, GL_SUBJECT_PREFIX, LOG_LEVEL, PROBE_*, NATS_STREAM_REPLICAS and SHUTDOWN_GRACE_MS",
};
const tracing: PassThrough = {
  lib: "libs/observability/src",
  via: /\bstartTracing\(\s*config\b/,
  in: "libs/nats/src",
  why: "the service runtime's startTracing(config) reads the OTEL_* keys",
};
const stage: PassThrough = {
  lib: "libs/nats/src",
  via: /\bsettings:\s*(?:config\b|\{\s*\.\.\.config\b)/,
  why: "startStage({ settings: config }) reads MAX_IN_FLIGHT, MAX_DELIVER and ACK_WAIT_MS",
};

const database: PassThrough = {
  lib: "libs/db/src",
  via: /\bopenServiceDb\(\{\s*settings:\s*config\b/,
  why: "openServiceDb({ settings: config }) reads DATABASE_URL, DATABASE_POOL_SIZE, DATABASE_PREPARED_STATEMENTS, DATABASE_PASSWORD_FILE and DATABASE_TLS_*",
};

const fetchStages: PassThrough = {
  ...stage,
  via: /\bstartFetchConsumers\([^)]*\bconfig\)/,
  why: "startFetchConsumers(…, config) hands it to startStage as settings (MAX_IN_FLIGHT, MAX_DELIVER, ACK_WAIT_MS)",
};

interface ServiceConfig {
  schema: z.ZodObject;
  src: string;
  passThrough: PassThrough[];
  /** Keys the loader itself reads, with the field it turns each into: that field must be read instead. */
  loaderReads?: Record<string, string>;
}

const SERVICES: Record<string, ServiceConfig> = {
  scheduler: {
    schema: SchedulerEnv,
    src: "services/scheduler/src",
    passThrough: [runtime, tracing, database],
    loaderReads: { SOURCES_FILE: "sources" },
  },
  fetcher: {
    schema: FetcherEnv,
    src: "services/fetcher/src",
    passThrough: [runtime, tracing, fetchStages],
    loaderReads: { SOURCES_FILE: "sources" },
  },
  mapper: { schema: MapperEnv, src: "services/mapper/src", passThrough: [runtime, tracing, stage] },
  writer: {
    schema: WriterEnv,
    src: "services/writer/src",
    passThrough: [runtime, tracing, stage, database],
  },
};

/** The code (comments removed, tests left out) of every .ts file under `dir`. */
function code(dir: string): string {
  const out: string[] = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith(".ts") || e.name.endsWith(".test.ts")) continue;
    const text = readFileSync(join(e.parentPath, e.name), "utf8");
    // Line comments only after whitespace or at a line start, so "redis://…" in a string survives.
    out.push(text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|\s)\/\/.*$/gm, "$1"));
  }
  return out.join("\n");
}

/** `x.KEY`, `x?.KEY`, or `KEY` in a destructuring `{ …KEY… } =`. */
function reads(source: string, key: string): boolean {
  return (
    new RegExp(String.raw`\??\.${key}\b`).test(source) ||
    new RegExp(String.raw`\{[^{}]*\b${key}\b[^{}]*\}\s*=`).test(source)
  );
}

describe.each(Object.entries(SERVICES))("every %s setting reaches code that reads it", (_name, svc) => {
  const own = code(svc.src);

  it.each(svc.passThrough.map((p) => [p.lib, p]))("the config object is handed to %s", (_lib, p) => {
    expect(p.in ? code(p.in) : own, p.why).toMatch(p.via);
  });

  const keys = Object.keys(svc.schema.shape);
  it.each(keys)("%s", (key) => {
    const derived = svc.loaderReads?.[key];
    const used = derived
      ? reads(own, derived)
      : reads(own, key) || svc.passThrough.some((p) => reads(code(p.lib), key));
    expect(used, `${key} is parsed but nothing in ${svc.src} or the libs it hands config to reads it`).toBe(
      true,
    );
  });
});

describe("docs/configuration.md", () => {
  const doc = readFileSync(join(root, "docs/configuration.md"), "utf8");
  const keys = new Set(Object.values(SERVICES).flatMap((s) => Object.keys(s.schema.shape)));
  it.each([...keys])("documents %s", (key) => {
    expect(doc).toContain(`\`${key}\``);
  });
});
