// Loads the published Smithy JSON AST models of the six AWS services (kept in /work/shared/aws-models,
// or GL_AWS_MODELS_DIR) and answers the questions the conformance tests ask of them: what a shape is,
// which shapes an operation returns, which protocol a service speaks.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { applyModelAdditions } from "./model-additions.ts";

export type ModelName =
  | "iam-2010-05-08"
  | "sts-2011-06-15"
  | "organizations-2016-11-28"
  | "sso-admin-2020-07-20"
  | "identitystore-2020-06-15"
  | "cloudtrail-2013-11-01";

export type Traits = Record<string, unknown>;

export interface MemberRef {
  target: string;
  traits?: Traits;
}

export interface Shape {
  type: string;
  members?: Record<string, MemberRef>;
  member?: MemberRef;
  key?: MemberRef;
  value?: MemberRef;
  input?: { target: string };
  output?: { target: string };
  errors?: { target: string }[];
  operations?: { target: string }[];
  resources?: { target: string }[];
  traits?: Traits;
  [other: string]: unknown;
}

export type Protocol = "awsQuery" | "awsJson1_1";

export interface SmithyModel {
  name: ModelName;
  /** Namespace of the service, e.g. `com.amazonaws.iam`. */
  namespace: string;
  serviceId: string;
  protocol: Protocol;
  /** `smithy.api#xmlNamespace` uri of the service (awsQuery services). */
  xmlNamespace: string | undefined;
  shapes: ReadonlyMap<string, Shape>;
}

const UNIT = "smithy.api#Unit";

/** Prelude shapes the models may target without defining them. */
const PRELUDE: Record<string, Shape> = {
  "smithy.api#Unit": { type: "structure", members: {} },
  "smithy.api#String": { type: "string" },
  "smithy.api#Boolean": { type: "boolean" },
  "smithy.api#PrimitiveBoolean": { type: "boolean" },
  "smithy.api#Integer": { type: "integer" },
  "smithy.api#PrimitiveInteger": { type: "integer" },
  "smithy.api#Long": { type: "long" },
  "smithy.api#PrimitiveLong": { type: "long" },
  "smithy.api#Short": { type: "short" },
  "smithy.api#Byte": { type: "byte" },
  "smithy.api#Float": { type: "float" },
  "smithy.api#Double": { type: "double" },
  "smithy.api#Timestamp": { type: "timestamp" },
  "smithy.api#Blob": { type: "blob" },
  "smithy.api#Document": { type: "document" },
};

/** Directory holding the model files: GL_AWS_MODELS_DIR, else /work/shared/aws-models beside the repo. */
export function modelsDir(): string {
  const fromEnv = process.env["GL_AWS_MODELS_DIR"];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  return fileURLToPath(new URL("../../../../../shared/aws-models/", import.meta.url));
}

const cache = new Map<string, SmithyModel>();

export function loadModel(name: ModelName): SmithyModel {
  const dir = modelsDir();
  const cacheKey = `${dir}\u0000${name}`;
  const cached = cache.get(cacheKey);
  if (cached !== undefined) return cached;
  const raw: unknown = JSON.parse(readFileSync(join(dir, `${name}.json`), "utf8"));
  if (typeof raw !== "object" || raw === null || !("shapes" in raw))
    throw new Error(`${name}: not a Smithy JSON AST`);
  const shapesObj = (raw as { shapes: Record<string, Shape> }).shapes;
  const shapes = new Map<string, Shape>(Object.entries(shapesObj));
  applyModelAdditions(name, shapes);
  const service = [...shapes.entries()].find(([, s]) => s.type === "service");
  if (service === undefined) throw new Error(`${name}: no service shape`);
  const [serviceId, serviceShape] = service;
  const traits = serviceShape.traits ?? {};
  const protocol: Protocol | undefined =
    "aws.protocols#awsQuery" in traits
      ? "awsQuery"
      : "aws.protocols#awsJson1_1" in traits
        ? "awsJson1_1"
        : undefined;
  if (protocol === undefined) throw new Error(`${name}: unsupported protocol`);
  const xmlNs = traits["smithy.api#xmlNamespace"] as { uri?: string } | undefined;
  const model: SmithyModel = {
    name,
    namespace: serviceId.split("#")[0] ?? "",
    serviceId,
    protocol,
    xmlNamespace: xmlNs?.uri,
    shapes,
  };
  cache.set(cacheKey, model);
  return model;
}

export function getShape(model: SmithyModel, shapeId: string): Shape {
  const shape = model.shapes.get(shapeId) ?? PRELUDE[shapeId];
  if (shape === undefined) throw new Error(`${model.name}: unknown shape ${shapeId}`);
  return shape;
}

/** Absolute shape id of `name` in the model's namespace (ids already absolute are returned as is). */
export function shapeIdOf(model: SmithyModel, name: string): string {
  return name.includes("#") ? name : `${model.namespace}#${name}`;
}

export function operationShape(model: SmithyModel, operation: string): Shape {
  const shape = getShape(model, shapeIdOf(model, operation));
  if (shape.type !== "operation") throw new Error(`${model.name}: ${operation} is not an operation`);
  return shape;
}

/** Output shape id of an operation, or undefined when the operation returns nothing (smithy.api#Unit). */
export function operationOutput(model: SmithyModel, operation: string): string | undefined {
  const target = operationShape(model, operation).output?.target;
  return target === undefined || target === UNIT ? undefined : target;
}

export interface ErrorInfo {
  shapeId: string;
  /** Wire code: the awsQueryError code for awsQuery services, else the shape name. */
  code: string;
  httpStatus: number | undefined;
}

/** Modeled errors of an operation (its own plus the service-wide ones). */
export function operationErrors(model: SmithyModel, operation: string): ErrorInfo[] {
  const service = getShape(model, model.serviceId);
  const targets = [
    ...(operationShape(model, operation).errors ?? []),
    ...((service["errors"] as { target: string }[] | undefined) ?? []),
  ];
  return targets.map(({ target }) => errorInfo(model, target));
}

export function errorInfo(model: SmithyModel, shapeId: string): ErrorInfo {
  const traits = getShape(model, shapeId).traits ?? {};
  const queryError = traits["aws.protocols#awsQueryError"] as
    { code?: string; httpResponseCode?: number } | undefined;
  const name = shapeId.split("#")[1] ?? shapeId;
  const httpError = traits["smithy.api#httpError"];
  return {
    shapeId,
    code: model.protocol === "awsQuery" && queryError?.code !== undefined ? queryError.code : name,
    httpStatus: queryError?.httpResponseCode ?? (typeof httpError === "number" ? httpError : undefined),
  };
}

export function memberTraits(ref: MemberRef): Traits {
  return ref.traits ?? {};
}

export function isRequired(ref: MemberRef): boolean {
  return "smithy.api#required" in memberTraits(ref);
}

export function hasDefault(ref: MemberRef): boolean {
  return "smithy.api#default" in memberTraits(ref);
}

/** Allowed values of an enum shape (Smithy 2 `enum`, or a string with the legacy `smithy.api#enum` trait). */
export function enumValues(shape: Shape): string[] | undefined {
  if (shape.type === "enum") {
    return Object.entries(shape.members ?? {}).map(([name, m]) => {
      const v = memberTraits(m)["smithy.api#enumValue"];
      return typeof v === "string" ? v : name;
    });
  }
  const legacy = shape.traits?.["smithy.api#enum"];
  if (Array.isArray(legacy)) return legacy.map((e: { value: string }) => e.value);
  return undefined;
}

/** Operation examples (`smithy.api#examples`) as published in the model. */
export interface ModelExample {
  title: string;
  documentation?: string;
  input?: Record<string, unknown>;
  output?: Record<string, unknown>;
  error?: { shapeId: string; content: Record<string, unknown> };
}

export function operationExamples(model: SmithyModel, operation: string): ModelExample[] {
  const ex = operationShape(model, operation).traits?.["smithy.api#examples"];
  return Array.isArray(ex) ? (ex as ModelExample[]) : [];
}

export interface Pagination {
  inputToken: string;
  outputToken: string;
  items: string | undefined;
  pageSize: string | undefined;
}

/** The `smithy.api#paginated` trait of an operation, merged with the service's defaults. */
export function operationPagination(model: SmithyModel, operation: string): Pagination | undefined {
  const own = operationShape(model, operation).traits?.["smithy.api#paginated"] as
    Partial<Pagination> | undefined;
  if (own === undefined) return undefined;
  const service = getShape(model, model.serviceId).traits?.["smithy.api#paginated"] as
    Partial<Pagination> | undefined;
  const merged = { ...service, ...own };
  if (merged.inputToken === undefined || merged.outputToken === undefined) return undefined;
  return {
    inputToken: merged.inputToken,
    outputToken: merged.outputToken,
    items: merged.items,
    pageSize: merged.pageSize,
  };
}
