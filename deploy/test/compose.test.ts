// Static checks of the container build and compose.yaml (the running check is deploy/test/compose-smoke.sh,
// which needs podman): every build target exists in the Dockerfile, mounted files exist, the sources file is
// valid, grantline containers are hardened and wait for what they need, the monitoring profile is optional.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { loadSourcesFile } from "@grantline/config";
import { NATS_ROLES, natsPasswordVariable } from "@grantline/nats";
import { repoRoot } from "./k8s-render.ts";

/* eslint-disable @typescript-eslint/no-explicit-any -- compose.yaml is untyped */
const compose = parseYaml(readFileSync(join(repoRoot, "compose.yaml"), "utf8"), { merge: true }) as {
  services: Record<string, any>;
  volumes: Record<string, unknown>;
  secrets: Record<string, { file: string }>;
};
const dockerfile = readFileSync(join(repoRoot, "Dockerfile"), "utf8");
const stages = new Set([...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+([\w-]+)/gim)].map((m) => m[1]!));
const GRANTLINE = ["migrate", "aws-sim", "scheduler", "fetcher", "mapper", "writer", "demo-sync"];

describe("Dockerfile", () => {
  it("has a target per image, on node:22-bookworm-slim, non-root, tini as PID 1, a healthcheck and OCI labels", () => {
    for (const t of ["build", "runtime", "scheduler", "fetcher", "mapper", "writer", "cli", "aws-sim"])
      expect(stages.has(t), t).toBe(true);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:22-bookworm-slim$/m);
    expect(dockerfile).toMatch(/^USER 10001:10001$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/healthz/m);
    expect(dockerfile).toMatch(/HOME=\/tmp/);
    for (const l of ["title", "description", "source", "version", "revision", "licenses"])
      expect(dockerfile).toContain(`org.opencontainers.image.${l}`);
    expect(dockerfile).toMatch(/npm ci/);
    expect(dockerfile).toMatch(/node scripts\/bundle\.mjs/);
  });

  it("caps the services' heap (GC pacing, docs/deploying.md) but not the emulator's", () => {
    const stage = (name: string): string => {
      const start = dockerfile.search(new RegExp(`^FROM \\S+ AS ${name}$`, "m"));
      const rest = dockerfile.slice(start + 1);
      const next = rest.search(/^FROM /m);
      return next < 0 ? rest : rest.slice(0, next);
    };
    expect(stage("runtime")).toMatch(
      /NODE_OPTIONS="--enable-source-maps --max-old-space-size=\d+ --max-semi-space-size=\d+ --experimental-async-context-frame"/,
    );
    // Bounded DNS waits: process.exit() waits for lookups in flight.
    expect(stage("runtime")).toMatch(/^ENV RES_OPTIONS="timeout:\d attempts:\d"$/m);
    for (const s of ["scheduler", "fetcher", "mapper", "writer", "cli"])
      expect(stage(s)).not.toMatch(/NODE_OPTIONS/);
    expect(stage("aws-sim")).toMatch(/^ENV NODE_OPTIONS=--enable-source-maps$/m);
  });
});

describe("compose.yaml", () => {
  it("has no ${VAR:-} with an empty default (podman-compose 1.0 passes it through as literal text)", () => {
    const text = readFileSync(join(repoRoot, "compose.yaml"), "utf8");
    expect(text.match(/\$\{[A-Z0-9_]+:?-\}/g) ?? []).toEqual([]);
  });

  it("defines the infrastructure, the services, two fetchers and the one-shot jobs", () => {
    for (const s of ["nats", "redis", "postgres", ...GRANTLINE, "prometheus", "grafana"])
      expect(compose.services[s], s).toBeDefined();
    expect(compose.services.fetcher.deploy.replicas).toBe(2);
    expect(compose.services.migrate.command).toEqual(["migrate"]);
    expect(compose.services["demo-sync"].command).toEqual(["sync", "demo", "--wait"]);
    expect(compose.services["aws-sim"].command).toEqual(expect.arrayContaining(["--org", "small"]));
    expect(compose.services.nats.command.join(" ")).toContain("/etc/nats/nats.conf");
    expect(compose.services.postgres.environment.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:-.+\}$/);
    expect(Object.keys(compose.volumes)).toEqual(
      expect.arrayContaining(["nats-data", "postgres-data", "redis-data"]),
    );
  });

  it("builds only Dockerfile targets that exist and mounts only files that exist", () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (s.build) expect(stages.has(s.build.target), `${name}: target ${s.build.target}`).toBe(true);
      for (const v of s.volumes ?? []) {
        const src = typeof v === "string" ? v.split(":")[0] : v.type === "bind" ? v.source : undefined;
        if (src?.startsWith("./")) expect(existsSync(join(repoRoot, src)), `${name}: ${src}`).toBe(true);
      }
    }
  });

  it("hardens every grantline container and gives it more time to stop than SHUTDOWN_GRACE_MS", () => {
    for (const name of GRANTLINE) {
      const s = compose.services[name];
      expect(s.read_only, name).toBe(true);
      expect(s.tmpfs, name).toEqual(["/tmp"]);
      expect(s.cap_drop, name).toEqual(["ALL"]);
      expect(s.security_opt, name).toContain("no-new-privileges:true");
      expect(s.image, name).toMatch(/^grantline\/(cli|aws-sim|scheduler|fetcher|mapper|writer):/);
      const grace = Number(/^(\d+)s$/.exec(s.stop_grace_period)?.[1]) * 1000;
      const shutdownMs = Number(s.environment?.SHUTDOWN_GRACE_MS ?? 0);
      expect(grace, name).toBeGreaterThan(shutdownMs);
    }
  });

  it("orders start-up with health and completion conditions", () => {
    const dep = (s: string) => compose.services[s].depends_on as Record<string, any>;
    expect(dep("migrate").postgres.condition).toBe("service_healthy");
    for (const s of ["scheduler", "writer"])
      expect(dep(s).migrate.condition).toBe("service_completed_successfully");
    for (const s of ["scheduler", "fetcher", "mapper", "writer"])
      expect(dep(s).nats.condition).toBe("service_healthy");
    for (const s of ["scheduler", "fetcher", "mapper", "writer"])
      expect(dep("demo-sync")[s]?.condition, s).toBe("service_healthy");
    for (const s of ["nats", "redis", "postgres"])
      expect(compose.services[s].healthcheck.test, s).toBeDefined();
  });

  it("keeps Prometheus and Grafana in the optional monitoring profile", () => {
    for (const s of ["prometheus", "grafana"]) expect(compose.services[s].profiles).toEqual(["monitoring"]);
    for (const s of GRANTLINE) expect(compose.services[s].profiles, s).toBeUndefined();
  });

  it("mounts a sources file grantline accepts, pointing the demo source at the emulator", () => {
    const file = join(repoRoot, "deploy/compose/sources.yaml");
    const { sources } = loadSourcesFile(file);
    const demo = sources.find((s) => s.id === "demo")!;
    expect(demo.endpoint).toBe("http://aws-sim:4566");
    expect(demo.staticCredentials?.accessKeyId).toMatch(/^AKIA/);
    expect(compose.services.scheduler.environment.SOURCES_FILE).toBe("/etc/grantline/sources.yaml");
  });

  it("runs NATS with a user per service from compose secrets, the CLI as the operator", () => {
    const conf = readFileSync(join(repoRoot, "deploy/nats/nats.conf"), "utf8");
    expect(conf).toMatch(/^include \.\/grantline-users\.conf$/m);
    const nats = compose.services.nats;
    expect(nats.volumes).toContain("./deploy/nats/grantline-users.conf:/etc/nats/grantline-users.conf:ro");
    const script = readFileSync(join(repoRoot, "deploy/compose/make-secrets.sh"), "utf8");
    for (const role of NATS_ROLES) {
      const secret = `nats-${role}-password`;
      expect(nats.secrets, role).toContain(secret);
      expect(compose.secrets[secret]?.file).toBe(`\${GL_SECRETS_DIR:-./deploy/compose/secrets}/${secret}`);
      expect(existsSync(join(repoRoot, "deploy/compose/secrets", secret)), secret).toBe(true);
      // The entrypoint exports each password as the variable the users file names.
      expect(nats.entrypoint.join(" ")).toContain(role);
      expect(natsPasswordVariable(role)).toBe(`GL_NATS_${role.toUpperCase()}_PASSWORD`);
      expect(script).toMatch(new RegExp(`for name in [^;]*\\bnats-${role}\\b`));
    }
    const users: Record<string, string> = {
      scheduler: "scheduler",
      fetcher: "fetcher",
      mapper: "mapper",
      writer: "writer",
      migrate: "operator",
      "demo-sync": "operator",
    };
    for (const [service, user] of Object.entries(users)) {
      const s = compose.services[service];
      expect(s.environment.NATS_USER, service).toBe(user);
      expect(s.environment.NATS_PASSWORD_FILE, service).toBe(`/run/secrets/nats-${user}-password`);
      expect(s.secrets, service).toContain(`nats-${user}-password`);
    }
  });

  it("configures JetStream in nats.conf with options nats-server 2.9 understands", () => {
    const conf = readFileSync(join(repoRoot, "deploy/nats/nats.conf"), "utf8");
    expect(conf).toMatch(/^jetstream\s*\{[^}]*store_dir/m);
    expect(conf).toMatch(/^http_port:\s*8222/m);
  });
});
