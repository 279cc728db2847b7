// Renders each kustomize overlay and checks it against the Kubernetes OpenAPI schemas (kubernetes-models and its
// KEDA / Prometheus Operator CRD packages) and against grantline's deployment policy: probes, resources, a
// locked-down securityContext, /tmp as emptyDir, a grace period longer than SHUTDOWN_GRACE_MS, PDBs, Services
// for the ServiceMonitor, Secrets only by reference, IRSA on the fetcher, autoscaling on the right consumers.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseSources } from "@grantline/config";
import { createSubjects, pipelineConsumers } from "@grantline/contracts";
import { kustomizeCommand, modelFor, render, type K8sObject } from "./k8s-render.ts";

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered YAML is untyped; the schema test types it */
type Any = any;

const OVERLAYS = ["base", "overlays/dev", "overlays/prod"] as const;
const STAGES = ["scheduler", "fetcher", "mapper", "writer"] as const;
const PROBE_PORTS: Record<string, number> = { scheduler: 9464, fetcher: 9465, mapper: 9466, writer: 9467 };

const rendered = new Map<string, K8sObject[]>();
function objects(dir: string): K8sObject[] {
  if (!rendered.has(dir)) rendered.set(dir, render(dir));
  return rendered.get(dir)!;
}
const ofKind = (objs: K8sObject[], kind: string): Any[] => objs.filter((o) => o.kind === kind);
const byName = (objs: K8sObject[], kind: string, name: string): Any =>
  objs.find((o) => o.kind === kind && o.metadata.name === name);

function podSpecs(objs: K8sObject[]): Array<{ owner: string; spec: Any }> {
  return objs
    .filter((o) => o.kind === "Deployment" || o.kind === "Job")
    .map((o: Any) => ({ owner: `${o.kind}/${o.metadata.name}`, spec: o.spec.template.spec }));
}

describe.skipIf(!kustomizeCommand)("kustomize overlays", () => {
  for (const dir of OVERLAYS) {
    describe(dir, () => {
      it("renders and every object validates against the Kubernetes / CRD OpenAPI schemas", async () => {
        const objs = objects(dir);
        expect(objs.length).toBeGreaterThan(15);
        for (const o of objs) {
          const model = await modelFor(o);
          expect(() => model.validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
        }
      });

      it("has one Deployment, Service and PodDisruptionBudget per service, and a migration Job", () => {
        const objs = objects(dir);
        for (const s of STAGES) {
          const d = byName(objs, "Deployment", `grantline-${s}`);
          expect(d, s).toBeDefined();
          const sel = d.spec.selector.matchLabels;
          const svc = byName(objs, "Service", `grantline-${s}`);
          expect(svc.spec.selector).toEqual(sel);
          expect(svc.spec.ports[0]).toMatchObject({
            name: "metrics",
            port: PROBE_PORTS[s],
            targetPort: "probe",
          });
          const pdb = ofKind(objs, "PodDisruptionBudget").find(
            (p) => JSON.stringify(p.spec.selector.matchLabels) === JSON.stringify(sel),
          );
          expect(pdb, `PDB for ${s}`).toBeDefined();
        }
        const job = byName(objs, "Job", "grantline-migrate");
        expect(job.spec.template.spec.containers[0].args).toEqual(["migrate"]);
        expect(job.spec.template.spec.containers[0].image).toMatch(/grantline\/cli:/);
      });

      it("every container has probes (Deployments), requests and limits, a locked-down securityContext and /tmp", () => {
        const objs = objects(dir);
        const config = ofKind(objs, "ConfigMap").find((c) => c.metadata.name.startsWith("grantline-config"));
        const shutdownGraceMs = Number(config.data.SHUTDOWN_GRACE_MS);
        expect(shutdownGraceMs).toBeGreaterThan(0);
        for (const { owner, spec } of podSpecs(objs)) {
          expect(spec.securityContext?.runAsNonRoot, owner).toBe(true);
          expect(spec.securityContext?.seccompProfile?.type, owner).toBe("RuntimeDefault");
          expect(spec.automountServiceAccountToken, owner).toBe(false);
          const tmpVolume = spec.volumes.find((v: Any) => v.emptyDir && v.name === "tmp");
          expect(tmpVolume, `${owner} emptyDir tmp`).toBeDefined();
          for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
            const where = `${owner} container ${c.name}`;
            expect(c.resources?.requests?.cpu, where).toBeDefined();
            expect(c.resources?.requests?.memory, where).toBeDefined();
            expect(c.resources?.limits?.cpu, where).toBeDefined();
            expect(c.resources?.limits?.memory, where).toBeDefined();
            expect(c.securityContext, where).toMatchObject({
              runAsNonRoot: true,
              readOnlyRootFilesystem: true,
              allowPrivilegeEscalation: false,
              capabilities: { drop: ["ALL"] },
              seccompProfile: { type: "RuntimeDefault" },
            });
            expect(c.securityContext.privileged ?? false, where).toBe(false);
            expect(
              c.volumeMounts.some((m: Any) => m.name === "tmp" && m.mountPath === "/tmp"),
              where,
            ).toBe(true);
            expect(c.image, where).toMatch(/:[\w.-]+$/); // pinned tag, never implicit latest
            expect(c.image, where).not.toMatch(/:latest$/);
            if (owner.startsWith("Deployment/")) {
              const port = c.ports.find((p: Any) => p.name === "probe");
              expect(port, where).toBeDefined();
              expect(c.livenessProbe?.httpGet, where).toMatchObject({ path: "/healthz", port: "probe" });
              expect(c.readinessProbe?.httpGet, where).toMatchObject({ path: "/readyz", port: "probe" });
              const stage = owner.replace("Deployment/grantline-", "");
              expect(port.containerPort, where).toBe(PROBE_PORTS[stage]);
              // Probes and metrics on the pod's address only (the default, loopback, would fail kubelet's probes).
              expect(
                c.env.find((e: Any) => e.name === "PROBE_HOST")?.valueFrom?.fieldRef?.fieldPath,
                where,
              ).toBe("status.podIP");
              // The orchestrator must wait longer than the service's own drain (+5 s shutdown margin).
              expect(spec.terminationGracePeriodSeconds * 1000, where).toBeGreaterThan(
                shutdownGraceMs + 5_000,
              );
            }
          }
        }
      });

      it("references Secrets by name only and never inlines connection URLs", () => {
        const objs = objects(dir);
        expect(ofKind(objs, "Secret")).toEqual([]);
        for (const { owner, spec } of podSpecs(objs)) {
          for (const c of spec.containers) {
            for (const e of c.env ?? []) {
              // A password in the environment would need a restart to rotate: files only.
              expect(e.name, `${owner} ${e.name}`).not.toMatch(/PASSWORD$/);
              if (["DATABASE_URL", "REDIS_URL"].includes(e.name)) {
                expect(e.value, `${owner} ${e.name}`).toBeUndefined();
                // One Postgres login per service (its own role), so none holds another's privileges.
                const service = owner.replace(/^(Deployment|Job)\/grantline-/, "");
                expect(e.valueFrom?.secretKeyRef?.name, `${owner} ${e.name}`).toBe(
                  e.name === "DATABASE_URL" ? `grantline-database-${service}` : "grantline-redis",
                );
              }
              expect(String(e.value ?? ""), `${owner} ${e.name}`).not.toMatch(/:\/\/[^/\s]*:[^@/\s]+@/);
            }
          }
        }
        for (const cm of ofKind(objs, "ConfigMap"))
          for (const v of Object.values(cm.data ?? {}))
            expect(String(v)).not.toMatch(/(postgres|redis)s?:\/\/[^/\s]*:[^@/\s]+@|secretAccessKey/);
      });

      it("mounts the fetcher's Redis password from grantline-redis as the file REDIS_PASSWORD_FILE names", () => {
        const spec = byName(objects(dir), "Deployment", "grantline-fetcher").spec.template.spec;
        const c = spec.containers[0];
        const file = c.env.find((e: Any) => e.name === "REDIS_PASSWORD_FILE")?.value as string;
        const volume = spec.volumes.find((v: Any) => v.secret?.secretName === "grantline-redis");
        const mount = c.volumeMounts.find((m: Any) => m.name === volume?.name);
        expect(mount?.readOnly).toBe(true);
        const item = volume.secret.items.find((i: Any) => i.key === "REDIS_PASSWORD");
        expect(`${mount.mountPath}/${item.path}`).toBe(file);
      });

      it("ships a sources file that grantline accepts, mounted into scheduler and fetcher", () => {
        const objs = objects(dir);
        const cm = ofKind(objs, "ConfigMap").find((c) => c.metadata.name.startsWith("grantline-sources"));
        expect(() => parseSources(parseYaml(cm.data["sources.yaml"]), "sources.yaml")).not.toThrow();
        for (const s of ["scheduler", "fetcher"]) {
          const spec = byName(objs, "Deployment", `grantline-${s}`).spec.template.spec;
          expect(spec.volumes.find((v: Any) => v.name === "sources").configMap.name).toBe(cm.metadata.name);
        }
      });

      it("gives only the fetcher an IRSA service account", () => {
        const objs = objects(dir);
        const sa = byName(objs, "ServiceAccount", "grantline-fetcher");
        const fetcher = byName(objs, "Deployment", "grantline-fetcher");
        expect(fetcher.spec.template.spec.serviceAccountName).toBe("grantline-fetcher");
        for (const s of ["scheduler", "mapper", "writer"])
          expect(byName(objs, "Deployment", `grantline-${s}`).spec.template.spec.serviceAccountName).toBe(
            "grantline",
          );
        const arn = sa.metadata.annotations?.["eks.amazonaws.com/role-arn"];
        if (dir === "overlays/dev") expect(arn).toBeUndefined();
        else expect(arn).toMatch(/^arn:aws:iam::\d{12}:role\/[\w+=,.@-]+$/);
        if (dir === "overlays/prod") expect(arn).not.toContain("000000000000");
      });

      it("has a default-deny NetworkPolicy and a ServiceMonitor on the metrics ports", () => {
        const objs = objects(dir);
        const deny = byName(objs, "NetworkPolicy", "grantline-default-deny");
        expect(deny.spec.policyTypes).toEqual(["Ingress", "Egress"]);
        expect(deny.spec.ingress ?? []).toEqual([]);
        expect(deny.spec.egress ?? []).toEqual([]);
        const sm = byName(objs, "ServiceMonitor", "grantline");
        expect(sm.spec.endpoints[0].port).toBe("metrics");
        for (const s of STAGES) {
          const svc = byName(objs, "Service", `grantline-${s}`);
          for (const [k, v] of Object.entries(sm.spec.selector.matchLabels))
            expect(svc.metadata.labels[k]).toBe(v);
        }
      });
    });
  }

  it("prod scales fetcher, mapper and writer with KEDA on the consumers' JetStream lag; dev uses CPU HPAs", () => {
    // Every pipeline consumer (the fetcher has one per AWS service) drives its stage's scaling: KEDA scales on
    // the largest lag among a ScaledObject's triggers.
    const consumers = pipelineConsumers(createSubjects("gl")).filter((c) => c.durable !== "fetcher-diag");
    const prod = objects("overlays/prod");
    expect(ofKind(prod, "HorizontalPodAutoscaler")).toEqual([]);
    for (const stage of ["fetcher", "mapper", "writer"]) {
      const so = byName(prod, "ScaledObject", `grantline-${stage}`);
      expect(so.spec.scaleTargetRef.name).toBe(`grantline-${stage}`);
      const triggers = so.spec.triggers as Array<{ type: string; metadata: Record<string, string> }>;
      const expected = consumers.filter((c) => c.durable === stage || c.durable.startsWith(`${stage}-`));
      expect(triggers.map((t) => ({ stream: t.metadata.stream, durable: t.metadata.consumer }))).toEqual(
        expected,
      );
      for (const t of triggers) {
        expect(t.type).toBe("nats-jetstream");
        expect(Number(t.metadata.lagThreshold)).toBeGreaterThan(0);
      }
    }
    const dev = objects("overlays/dev");
    expect(ofKind(dev, "ScaledObject")).toEqual([]);
    expect(
      ofKind(dev, "HorizontalPodAutoscaler")
        .map((h) => h.spec.scaleTargetRef.name)
        .sort(),
    ).toEqual(["grantline-fetcher", "grantline-mapper", "grantline-writer"]);
  });

  it("prod points at an external NATS cluster (several servers) and sets a namespace", () => {
    const prod = objects("overlays/prod");
    const cm = ofKind(prod, "ConfigMap").find((c) => c.metadata.name.startsWith("grantline-config"));
    expect(cm.data.NATS_URL.split(",").length).toBeGreaterThanOrEqual(3);
    for (const o of prod) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe("grantline");
  });

  it("the validator rejects a wrongly typed field (the schema check is not a no-op)", async () => {
    const d = structuredClone(byName(objects("base"), "Deployment", "grantline-writer")) as Any;
    d.spec.replicas = "two";
    const model = await modelFor(d);
    expect(() => model.validate()).toThrow(/replicas/);
  });
});

describe("kustomization files", () => {
  it("are parseable YAML (also where kustomize is not installed)", () => {
    for (const f of [
      "base/kustomization.yaml",
      "overlays/dev/kustomization.yaml",
      "overlays/prod/kustomization.yaml",
      "components/keda/kustomization.yaml",
      "components/hpa/kustomization.yaml",
    ])
      expect(parseYaml(readFileSync(new URL(`../k8s/${f}`, import.meta.url), "utf8")).kind).toMatch(
        /^(Kustomization|Component)$/,
      );
  });
});
