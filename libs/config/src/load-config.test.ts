import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ConfigError,
  loadFetcherConfig,
  loadMapperConfig,
  loadSchedulerConfig,
  loadWriterConfig,
  parseSources,
} from "./index.ts";

const dir = mkdtempSync(join(tmpdir(), "gl-config-"));
function sourcesFile(body: string): string {
  const p = join(dir, `s${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(p, body);
  return p;
}
const good = sourcesFile("sources:\n  - id: acme\n    endpoint: http://127.0.0.1:4566\n");

function oneLine(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).not.toContain("\n");
    return msg;
  }
  throw new Error("expected a ConfigError");
}

describe("service config loaders", () => {
  it("apply documented defaults", () => {
    const w = loadWriterConfig({});
    expect(w.NATS_URL).toBe("nats://127.0.0.1:4222");
    expect(w.PROBE_PORT).toBe(9467);
    expect(w.MAX_IN_FLIGHT).toBe(16);
    expect(loadMapperConfig({ MAX_IN_FLIGHT: "" }).MAX_IN_FLIGHT).toBe(32);
    const s = loadSchedulerConfig({ SOURCES_FILE: good });
    expect(s.sources.sources[0]?.budgets["sso-admin"]).toBe(20);
    // Probes on loopback unless a deployment says otherwise (the pod IP in Kubernetes).
    expect(w.PROBE_HOST).toBe("127.0.0.1");
  });

  it("reads credentials and TLS files for Postgres and Redis", () => {
    const secret = sourcesFile("s3cret\n");
    const w = loadWriterConfig({
      DATABASE_PASSWORD_FILE: secret,
      DATABASE_TLS_CA_FILE: secret,
      DATABASE_TLS_CERT_FILE: secret,
      DATABASE_TLS_KEY_FILE: secret,
    });
    expect([w.DATABASE_PASSWORD_FILE, w.DATABASE_TLS_CA_FILE, w.DATABASE_TLS_KEY_FILE]).toEqual([
      secret,
      secret,
      secret,
    ]);
    const f = loadFetcherConfig({
      SOURCES_FILE: good,
      REDIS_URL: "rediss://redis:6380",
      REDIS_USERNAME: "grantline-fetcher",
      REDIS_PASSWORD_FILE: secret,
      REDIS_TLS_CA_FILE: secret,
    });
    expect(f).toMatchObject({ REDIS_USERNAME: "grantline-fetcher", REDIS_PASSWORD_FILE: secret });
  });

  it.each([
    ["writer", () => loadWriterConfig({ DATABASE_URL: "mysql://x" }), /DATABASE_URL/],
    ["writer", () => loadWriterConfig({ OUTBOX_BATCH: "lots" }), /OUTBOX_BATCH/],
    ["mapper", () => loadMapperConfig({ LOG_LEVEL: "loud" }), /LOG_LEVEL/],
    ["mapper", () => loadMapperConfig({ MAX_IN_FLIGHT: "0" }), /MAX_IN_FLIGHT/],
    ["fetcher", () => loadFetcherConfig({ SOURCES_FILE: good, REDIS_URL: "http://x" }), /REDIS_URL/],
    [
      "fetcher",
      () => loadFetcherConfig({ SOURCES_FILE: join(dir, "missing.yaml") }),
      /SOURCES_FILE: cannot read/,
    ],
    [
      "scheduler",
      () => loadSchedulerConfig({ SOURCES_FILE: good, STALL_TIMEOUT_MS: "5" }),
      /STALL_TIMEOUT_MS/,
    ],
    ["scheduler", () => loadSchedulerConfig({ SOURCES_FILE: good, PROBE_PORT: "99999" }), /PROBE_PORT/],
    [
      "writer",
      () => loadWriterConfig({ DATABASE_TLS_CA_FILE: join(dir, "no-ca.pem") }),
      /DATABASE_TLS_CA_FILE: no such file/,
    ],
    [
      "fetcher",
      () => loadFetcherConfig({ SOURCES_FILE: good, REDIS_PASSWORD_FILE: join(dir, "no-secret") }),
      /REDIS_PASSWORD_FILE: no such file/,
    ],
    [
      "mapper",
      () => loadMapperConfig({ NATS_URL: "http://nats:4222" }),
      /NATS_URL: "http:\/\/nats:4222" is not/,
    ],
    ["mapper", () => loadMapperConfig({ NATS_URL: "nats://a:4222, not a url" }), /NATS_URL: "not a url"/],
    [
      "mapper",
      () => loadMapperConfig({ NATS_URL: "http://user:secret@nats:4222" }),
      /NATS_URL: "http:\/\/\*\*\*@nats:4222"/,
    ],
  ])("%s refuses bad input with one line naming the field", (_svc, load, field) => {
    expect(oneLine(load)).toMatch(field);
  });
});

describe("sources file", () => {
  it("reads OpenTelemetry's variables and refuses an exporter protocol it cannot speak", () => {
    const c = loadMapperConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
      OTEL_SERVICE_NAME: "m",
    });
    expect(c.OTEL_EXPORTER_OTLP_ENDPOINT).toBe("http://collector:4318");
    expect(oneLine(() => loadMapperConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }))).toMatch(
      /OTEL_EXPORTER_OTLP_PROTOCOL: .*gRPC is not supported/,
    );
    expect(oneLine(() => loadMapperConfig({ OTEL_TRACES_EXPORTER: "jaeger" }))).toMatch(
      /OTEL_TRACES_EXPORTER/,
    );
  });

  it("rejects a bad role ARN, a bad external id, duplicate ids and bad YAML by name", () => {
    expect(
      oneLine(() =>
        parseSources({ sources: [{ id: "a", assumeRole: [{ roleArn: "arn:aws:iam::12:role/x" }] }] }),
      ),
    ).toMatch(/sources\.0\.assumeRole\.0\.roleArn: must be an IAM role ARN/);
    expect(
      oneLine(() =>
        parseSources({
          sources: [
            { id: "a", assumeRole: [{ roleArn: "arn:aws:iam::123456789012:role/R", externalId: "x" }] },
          ],
        }),
      ),
    ).toMatch(/externalId: must be 2–1224/);
    expect(
      oneLine(() =>
        parseSources({
          sources: [
            { id: "a", assumeRole: [{ roleArn: "arn:aws:iam::123456789012:role/R", externalId: "bad id!" }] },
          ],
        }),
      ),
    ).toMatch(/externalId: may contain only/);
    expect(oneLine(() => parseSources({ sources: [{ id: "a" }, { id: "a" }] }))).toMatch(
      /sources\.1\.id: duplicate source id/,
    );
    expect(oneLine(() => parseSources({ sources: [{ id: "Has Space" }] }))).toMatch(/sources\.0\.id/);
    expect(oneLine(() => parseSources({ sources: [] }))).toMatch(/at least one source/);
    expect(oneLine(() => loadSchedulerConfig({ SOURCES_FILE: sourcesFile("sources: [\n") }))).toMatch(
      /not valid YAML/,
    );
  });

  it("reads feed durations as strings or seconds, with defaults, and names a bad one", () => {
    const feeds = (f: unknown) => parseSources({ sources: [{ id: "a", feeds: f }] }).sources[0]!.feeds;
    expect(feeds(undefined)).toEqual({
      enabled: false,
      lookback: 3_600_000,
      overlap: 900_000,
      minInterval: 5_000,
      maxInterval: 60_000,
      accountInterval: 15_000,
      maxWindowsInFlight: 256,
      managementFeeds: "combined",
      pollsPerTask: 25,
    });
    expect(feeds({ enabled: true, lookback: "2d", overlap: 600, minInterval: "1.5s" })).toMatchObject({
      enabled: true,
      lookback: 172_800_000,
      overlap: 600_000,
      minInterval: 1_500,
    });
    expect(oneLine(() => feeds({ lookback: "91d" }))).toMatch(
      /sources\.0\.feeds\.lookback: must be at most 90 days/,
    );
    expect(oneLine(() => feeds({ overlap: "5 minutes" }))).toMatch(
      /feeds\.overlap: "5 minutes" is not a duration/,
    );
    expect(oneLine(() => feeds({ minInterval: "30s", maxInterval: "10s" }))).toMatch(
      /feeds\.maxInterval: must be at least minInterval/,
    );
  });

  it("refuses a second hop longer than an hour (role chaining), naming the hop", () => {
    const hops = (first: number, second: number) => ({
      sources: [
        {
          id: "a",
          assumeRole: [
            { roleArn: "arn:aws:iam::123456789012:role/Hub", durationSeconds: first },
            { roleArn: "arn:aws:iam::210987654321:role/Reader", durationSeconds: second },
          ],
        },
      ],
    });
    expect(() => parseSources(hops(3600, 7200))).toThrow(
      /^invalid configuration: sources file: sources\.0\.assumeRole\.1\.durationSeconds: 7200 is too long: .*role chaining is capped at 3600 s$/,
    );
    // The first hop is not chaining (its credentials come from the default chain): up to the role's maximum.
    expect(parseSources(hops(43200, 3600)).sources[0]?.assumeRole.map((h) => h.durationSeconds)).toEqual([
      43200, 3600,
    ]);
    expect(() => parseSources(hops(900, 3601))).toThrow(/assumeRole\.1\.durationSeconds/);
  });

  it("accepts two AssumeRole hops with external ids", () => {
    const f = parseSources({
      sources: [
        {
          id: "acme",
          assumeRole: [
            { roleArn: "arn:aws:iam::123456789012:role/Hop1", externalId: "ext-id_1" },
            { roleArn: "arn:aws:iam::210987654321:role/path/Hop2" },
          ],
        },
      ],
    });
    expect(f.sources[0]?.assumeRole).toHaveLength(2);
    expect(f.sources[0]?.assumeRole[0]?.sessionName).toBe("grantline");
  });
});
