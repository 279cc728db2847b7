import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const k8sDir = fileURLToPath(new URL("../k8s/", import.meta.url));

/** A rendered Kubernetes object (only the fields the tests read are typed). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}

function which(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** `kubectl kustomize` (kustomize v5 is built into kubectl ≥ 1.27) or a standalone `kustomize`; null if neither. */
export const kustomizeCommand: string[] | null = which("kubectl", ["version", "--client"])
  ? ["kubectl", "kustomize"]
  : which("kustomize", ["version"])
    ? ["kustomize", "build"]
    : null;

/** Renders a kustomization directory (relative to deploy/k8s) into its objects. */
export function render(dir: string): K8sObject[] {
  if (!kustomizeCommand) throw new Error("neither kubectl nor kustomize is installed");
  const [cmd, ...args] = kustomizeCommand;
  const out = execFileSync(cmd!, [...args, `${k8sDir}${dir}`], { encoding: "utf8", maxBuffer: 16 << 20 });
  return parseAllDocuments(out)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

/** The OpenAPI model class for an object, from kubernetes-models (core) or its CRD packages (KEDA, Prometheus Operator). */
export async function modelFor(o: K8sObject): Promise<{ validate(): void }> {
  const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : ["", o.apiVersion];
  const path =
    group === "keda.sh"
      ? `@kubernetes-models/keda/${group}/${version}/${o.kind}`
      : group === "monitoring.coreos.com"
        ? `@kubernetes-models/prometheus-operator/${group}/${version}/${o.kind}`
        : group
          ? `kubernetes-models/${group}/${version}/${o.kind}`
          : `kubernetes-models/${version}/${o.kind}`;
  const mod = (await import(path)) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = mod[o.kind];
  if (!Model) throw new Error(`no model ${o.kind} in ${path}`);
  return new Model(o);
}
