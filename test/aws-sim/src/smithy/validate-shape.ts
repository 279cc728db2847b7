// size: three wire views (SDK output, JSON, query XML) of one Smithy shape walk, kept together so they cannot drift
// Holds a value against a Smithy shape and lists every way it differs from what the model allows.
// Three views of one response are checked:
// - validateShape: the deserialized SDK output (timestamps as Date, blobs as Uint8Array);
// - validateJsonWire: the raw awsJson1_1 body (timestamps as epoch-second numbers, blobs as base64);
// - validateXmlWire: the raw awsQuery XML element tree (lists as <member>, maps as <entry><key/><value/>).
// The SDK drops members it doesn't know, so only the wire views catch misnamed members.
import { childNamed, parseXml } from "./xml-tree.ts";
import type { XmlElement } from "./xml-tree.ts";
import {
  enumValues,
  getShape,
  hasDefault,
  isRequired,
  memberTraits,
  operationErrors,
  operationOutput,
} from "./smithy-model.ts";
import type { MemberRef, Shape, SmithyModel } from "./smithy-model.ts";

export interface ValidateOptions {
  /** Also check `smithy.api#length`, `#pattern` and `#range` (default true). */
  constraints?: boolean;
}

type Mode = "sdk" | "json";

const INTEGER_TYPES = new Set(["byte", "short", "integer", "long", "intEnum"]);
const FLOAT_TYPES = new Set(["float", "double"]);

const regexCache = new Map<string, RegExp | null>();
function compilePattern(pattern: string): RegExp | null {
  if (regexCache.has(pattern)) return regexCache.get(pattern) ?? null;
  let re: RegExp | null = null;
  for (const flags of ["u", ""]) {
    try {
      re = new RegExp(pattern, flags);
      break;
    } catch {
      re = null;
    }
  }
  regexCache.set(pattern, re);
  return re;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (value instanceof Date) return "Date";
  if (value instanceof Uint8Array) return "Uint8Array";
  const t = typeof value;
  if (t === "string") return `string ${JSON.stringify(value).slice(0, 60)}`;
  if (t === "number" || t === "boolean") return `${t} ${String(value)}`;
  return t;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    !(value instanceof Uint8Array)
  );
}

/** Traits that constrain a value: those of the target shape overlaid with those of the member. */
function constraintTraits(shape: Shape, ref: MemberRef | undefined): Record<string, unknown> {
  return { ...(shape.traits ?? {}), ...(ref !== undefined ? memberTraits(ref) : {}) };
}

function checkLength(size: number, traits: Record<string, unknown>, path: string, what: string): string[] {
  const length = traits["smithy.api#length"] as { min?: number; max?: number } | undefined;
  if (length === undefined) return [];
  if (length.min !== undefined && size < length.min)
    return [`${path}: ${what} ${size} < min length ${length.min}`];
  if (length.max !== undefined && size > length.max)
    return [`${path}: ${what} ${size} > max length ${length.max}`];
  return [];
}

function checkString(
  s: string,
  shape: Shape,
  ref: MemberRef | undefined,
  path: string,
  opts: ValidateOptions,
): string[] {
  const problems: string[] = [];
  const allowed = enumValues(shape);
  if (allowed !== undefined && !allowed.includes(s)) {
    problems.push(`${path}: ${JSON.stringify(s)} is not one of the enum values ${allowed.join("|")}`);
  }
  if (opts.constraints !== false) {
    const traits = constraintTraits(shape, ref);
    problems.push(...checkLength([...s].length, traits, path, "string length"));
    const pattern = traits["smithy.api#pattern"];
    if (typeof pattern === "string") {
      const re = compilePattern(pattern);
      if (re !== null && !re.test(s))
        problems.push(`${path}: ${JSON.stringify(s).slice(0, 80)} does not match pattern ${pattern}`);
    }
  }
  return problems;
}

function checkRange(
  n: number,
  shape: Shape,
  ref: MemberRef | undefined,
  path: string,
  opts: ValidateOptions,
): string[] {
  if (opts.constraints === false) return [];
  const range = constraintTraits(shape, ref)["smithy.api#range"] as
    { min?: number; max?: number } | undefined;
  if (range === undefined) return [];
  if (range.min !== undefined && n < range.min) return [`${path}: ${n} < min ${range.min}`];
  if (range.max !== undefined && n > range.max) return [`${path}: ${n} > max ${range.max}`];
  return [];
}

function validateValue(
  model: SmithyModel,
  shapeId: string,
  value: unknown,
  path: string,
  mode: Mode,
  opts: ValidateOptions,
  ref?: MemberRef,
): string[] {
  const shape = getShape(model, shapeId);
  const problems: string[] = [];
  const expect = (what: string): string[] => [
    `${path}: expected ${what} (${shapeId}), got ${describe(value)}`,
  ];
  switch (shape.type) {
    case "structure":
    case "union": {
      if (!isPlainObject(value)) return expect("an object");
      const members = shape.members ?? {};
      const present: string[] = [];
      for (const [key, v] of Object.entries(value)) {
        if (v === undefined) continue;
        const member = members[key];
        if (member === undefined) {
          problems.push(`${path}.${key}: unknown member (not in ${shapeId})`);
          continue;
        }
        present.push(key);
        if (v === null) {
          problems.push(`${path}.${key}: null (AWS omits absent members)`);
          continue;
        }
        problems.push(...validateValue(model, member.target, v, `${path}.${key}`, mode, opts, member));
      }
      if (shape.type === "union") {
        if (present.length !== 1)
          problems.push(`${path}: a union (${shapeId}) must set exactly one member, got ${present.length}`);
      } else {
        for (const [name, member] of Object.entries(members)) {
          if (
            isRequired(member) &&
            !hasDefault(member) &&
            (value[name] === undefined || value[name] === null)
          ) {
            problems.push(`${path}.${name}: required member missing`);
          }
        }
      }
      return problems;
    }
    case "list":
    case "set": {
      if (!Array.isArray(value)) return expect("an array");
      const item = shape.member;
      if (item === undefined) return [`${path}: list shape ${shapeId} has no member`];
      const sparse = "smithy.api#sparse" in (shape.traits ?? {});
      value.forEach((v: unknown, i) => {
        if (v === null || v === undefined) {
          if (!sparse) problems.push(`${path}[${i}]: null in a dense list`);
          return;
        }
        problems.push(...validateValue(model, item.target, v, `${path}[${i}]`, mode, opts, item));
      });
      if (opts.constraints !== false)
        problems.push(...checkLength(value.length, constraintTraits(shape, ref), path, "list size"));
      return problems;
    }
    case "map": {
      if (!isPlainObject(value)) return expect("an object (map)");
      const { key, value: val } = shape;
      if (key === undefined || val === undefined) return [`${path}: map shape ${shapeId} lacks key/value`];
      for (const [k, v] of Object.entries(value)) {
        problems.push(
          ...validateValue(model, key.target, k, `${path}{key ${JSON.stringify(k)}}`, mode, opts, key),
        );
        if (v === null || v === undefined) problems.push(`${path}[${JSON.stringify(k)}]: null map value`);
        else
          problems.push(
            ...validateValue(model, val.target, v, `${path}[${JSON.stringify(k)}]`, mode, opts, val),
          );
      }
      if (opts.constraints !== false)
        problems.push(
          ...checkLength(Object.keys(value).length, constraintTraits(shape, ref), path, "map size"),
        );
      return problems;
    }
    case "string":
    case "enum":
      if (typeof value !== "string") return expect("a string");
      return checkString(value, shape, ref, path, opts);
    case "boolean":
      if (typeof value !== "boolean") return expect("a boolean");
      return [];
    case "byte":
    case "short":
    case "integer":
    case "long":
    case "intEnum":
      if (typeof value !== "number" || !Number.isInteger(value)) return expect("an integer number");
      return checkRange(value, shape, ref, path, opts);
    case "float":
    case "double":
      if (typeof value === "number") return checkRange(value, shape, ref, path, opts);
      if (mode === "json" && (value === "NaN" || value === "Infinity" || value === "-Infinity")) return [];
      return expect("a number");
    case "bigInteger":
    case "bigDecimal":
      return typeof value === "number" || typeof value === "bigint" || typeof value === "string"
        ? []
        : expect("a number");
    case "timestamp":
      if (mode === "sdk") {
        if (!(value instanceof Date)) return expect("a Date");
        if (Number.isNaN(value.getTime())) return [`${path}: Invalid Date`];
        return [];
      }
      if (typeof value !== "number" || !Number.isFinite(value))
        return expect("epoch seconds as a JSON number");
      if (value > 1e11) return [`${path}: ${value} looks like epoch milliseconds, expected epoch seconds`];
      return [];
    case "blob":
      if (mode === "sdk") return value instanceof Uint8Array ? [] : expect("a Uint8Array");
      if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value))
        return expect("a base64 string");
      return [];
    case "document":
      return [];
    default:
      return [`${path}: cannot validate shape type ${shape.type} (${shapeId})`];
  }
}

/**
 * Problems with a deserialized SDK value (what `client.send(cmd)` resolves to). A top-level `$metadata`
 * is ignored. Returns [] when the value matches the shape.
 */
export function validateShape(
  model: SmithyModel,
  shapeId: string,
  value: unknown,
  path = "$",
  opts: ValidateOptions = {},
): string[] {
  let v = value;
  if (path === "$" && isPlainObject(value) && "$metadata" in value) {
    const { $metadata: _metadata, ...rest } = value;
    v = rest;
  }
  return validateValue(model, shapeId, v, path, "sdk", opts);
}

/** Problems with a raw awsJson1_1 value (parsed JSON) against a shape. */
export function validateJsonWire(
  model: SmithyModel,
  shapeId: string,
  value: unknown,
  path = "$",
  opts: ValidateOptions = {},
): string[] {
  return validateValue(model, shapeId, value, path, "json", opts);
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

function xmlMemberName(ref: MemberRef, fallback: string): string {
  const name = memberTraits(ref)["smithy.api#xmlName"];
  return typeof name === "string" ? name : fallback;
}

function isFlattened(ref: MemberRef): boolean {
  return "smithy.api#xmlFlattened" in memberTraits(ref);
}

/**
 * Problems with a raw awsQuery XML element holding a value of the shape (the element itself is the
 * member's element; its name is not checked here).
 */
export function validateXmlWire(
  model: SmithyModel,
  shapeId: string,
  el: XmlElement,
  path = "$",
  opts: ValidateOptions = {},
  ref?: MemberRef,
): string[] {
  const shape = getShape(model, shapeId);
  const problems: string[] = [];
  const hasText = el.text.trim() !== "";
  const scalar = (): string[] =>
    el.children.length > 0
      ? [`${path}: scalar ${shapeId} has child elements <${el.children.map((c) => c.name).join(">, <")}>`]
      : [];
  switch (shape.type) {
    case "structure":
    case "union": {
      if (hasText)
        problems.push(
          `${path}: unexpected text ${JSON.stringify(el.text.trim()).slice(0, 60)} in ${shapeId}`,
        );
      const members = shape.members ?? {};
      const byXmlName = new Map<string, [string, MemberRef]>();
      for (const [name, member] of Object.entries(members)) {
        byXmlName.set(xmlMemberName(member, name), [name, member]);
      }
      const seen = new Map<string, XmlElement[]>();
      for (const child of el.children) {
        const entry = byXmlName.get(child.name);
        if (entry === undefined) {
          problems.push(`${path}.${child.name}: unknown element (not a member of ${shapeId})`);
          continue;
        }
        const list = seen.get(child.name) ?? [];
        list.push(child);
        seen.set(child.name, list);
      }
      for (const [xmlName, [name, member]] of byXmlName) {
        const els = seen.get(xmlName) ?? [];
        if (els.length === 0) {
          if (shape.type === "structure" && isRequired(member) && !hasDefault(member))
            problems.push(`${path}.${name}: required member missing`);
          continue;
        }
        if (isFlattened(member)) {
          const target = getShape(model, member.target);
          const item = target.member;
          if (item !== undefined) {
            els.forEach((e, i) =>
              problems.push(...validateXmlWire(model, item.target, e, `${path}.${name}[${i}]`, opts, item)),
            );
          }
          continue;
        }
        if (els.length > 1) problems.push(`${path}.${name}: element repeated ${els.length} times`);
        problems.push(
          ...validateXmlWire(model, member.target, els[0] as XmlElement, `${path}.${name}`, opts, member),
        );
      }
      if (shape.type === "union" && seen.size !== 1)
        problems.push(`${path}: a union (${shapeId}) must set exactly one member, got ${seen.size}`);
      return problems;
    }
    case "list":
    case "set": {
      if (hasText) problems.push(`${path}: unexpected text in list ${shapeId}`);
      const item = shape.member;
      if (item === undefined) return [`${path}: list shape ${shapeId} has no member`];
      const itemName = xmlMemberName(item, "member");
      el.children.forEach((c, i) => {
        if (c.name !== itemName)
          problems.push(`${path}[${i}]: list item element is <${c.name}>, expected <${itemName}>`);
        else problems.push(...validateXmlWire(model, item.target, c, `${path}[${i}]`, opts, item));
      });
      if (opts.constraints !== false)
        problems.push(...checkLength(el.children.length, constraintTraits(shape, ref), path, "list size"));
      return problems;
    }
    case "map": {
      if (hasText) problems.push(`${path}: unexpected text in map ${shapeId}`);
      const { key, value } = shape;
      if (key === undefined || value === undefined) return [`${path}: map shape ${shapeId} lacks key/value`];
      const keyName = xmlMemberName(key, "key");
      const valueName = xmlMemberName(value, "value");
      el.children.forEach((entry, i) => {
        const p = `${path}{entry ${i}}`;
        if (entry.name !== "entry") {
          problems.push(`${p}: map entry element is <${entry.name}>, expected <entry>`);
          return;
        }
        const names = entry.children.map((c) => c.name).sort();
        if (names.length !== 2 || !names.includes(keyName) || !names.includes(valueName)) {
          problems.push(
            `${p}: expected exactly <${keyName}> and <${valueName}>, got <${names.join(">, <")}>`,
          );
        }
        const k = childNamed(entry, keyName);
        const v = childNamed(entry, valueName);
        if (k !== undefined) problems.push(...validateXmlWire(model, key.target, k, `${p}.key`, opts, key));
        if (v !== undefined)
          problems.push(...validateXmlWire(model, value.target, v, `${p}.value`, opts, value));
      });
      if (opts.constraints !== false)
        problems.push(...checkLength(el.children.length, constraintTraits(shape, ref), path, "map size"));
      return problems;
    }
    case "string":
    case "enum":
      return [...scalar(), ...checkString(el.text, shape, ref, path, opts)];
    case "boolean":
      if (el.text !== "true" && el.text !== "false")
        problems.push(`${path}: boolean must be exactly true|false, got ${JSON.stringify(el.text)}`);
      return [...scalar(), ...problems];
    case "timestamp":
      if (!ISO_UTC.test(el.text))
        problems.push(
          `${path}: timestamp must be ISO-8601 UTC like 2024-01-15T10:00:00Z, got ${JSON.stringify(el.text)}`,
        );
      else if (Number.isNaN(Date.parse(el.text)))
        problems.push(`${path}: invalid date ${JSON.stringify(el.text)}`);
      return [...scalar(), ...problems];
    case "blob":
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(el.text.trim())) problems.push(`${path}: blob is not base64`);
      return [...scalar(), ...problems];
    case "document":
      return [`${path}: documents cannot appear in awsQuery (${shapeId})`];
    default:
      if (INTEGER_TYPES.has(shape.type)) {
        if (!/^-?\d+$/.test(el.text))
          return [...scalar(), `${path}: integer expected, got ${JSON.stringify(el.text)}`];
        return [...scalar(), ...checkRange(Number(el.text), shape, ref, path, opts)];
      }
      if (FLOAT_TYPES.has(shape.type)) {
        if (!/^(-?\d+(\.\d+)?([eE][-+]?\d+)?|NaN|-?Infinity)$/.test(el.text))
          return [...scalar(), `${path}: number expected, got ${JSON.stringify(el.text)}`];
        return [...scalar(), ...checkRange(Number(el.text), shape, ref, path, opts)];
      }
      return [`${path}: cannot validate shape type ${shape.type} (${shapeId})`];
  }
}

/** Error codes AWS returns for any operation without modeling them. */
export const COMMON_ERROR_CODES: ReadonlySet<string> = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "Throttling",
  "ThrottlingException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "InvalidAction",
  "UnknownOperationException",
  "ValidationError",
  "ValidationException",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "SignatureDoesNotMatch",
  "IncompleteSignature",
  "MissingAuthenticationToken",
  "InternalFailure",
  "ServiceUnavailable",
  "InvalidParameterValue",
  "MissingParameter",
]);

export interface RawHttpResponse {
  statusCode: number;
  headers: Record<string, string | undefined>;
  body: string;
}

function header(res: RawHttpResponse, name: string): string | undefined {
  const found = Object.entries(res.headers).find(([k]) => k.toLowerCase() === name);
  return found?.[1];
}

/**
 * Problems with a whole raw HTTP response of an operation: status, content type, request id header,
 * the envelope (awsQuery `<OpResponse><OpResult/><ResponseMetadata/></OpResponse>`, or the JSON body),
 * and — through validateXmlWire / validateJsonWire — the output or error shape.
 */
export function validateRawResponse(
  model: SmithyModel,
  operation: string,
  res: RawHttpResponse,
  opts: ValidateOptions = {},
): string[] {
  const problems: string[] = [];
  const requestId = header(res, "x-amzn-requestid") ?? header(res, "x-amz-request-id");
  if (requestId === undefined || requestId === "") problems.push(`${operation}: no x-amzn-RequestId header`);
  const contentType = header(res, "content-type") ?? "";
  const isError = res.statusCode >= 300;
  if (model.protocol === "awsQuery") {
    if (!/^text\/xml\b/.test(contentType))
      problems.push(`${operation}: content-type ${JSON.stringify(contentType)}, expected text/xml`);
    let root: XmlElement;
    try {
      root = parseXml(res.body);
    } catch (err) {
      return [...problems, `${operation}: body is not XML: ${(err as Error).message}`];
    }
    if (isError) return [...problems, ...validateQueryError(model, operation, root, res.statusCode)];
    return [...problems, ...validateQueryEnvelope(model, operation, root, opts)];
  }
  if (!/^application\/x-amz-json-1\.1\b/.test(contentType))
    problems.push(
      `${operation}: content-type ${JSON.stringify(contentType)}, expected application/x-amz-json-1.1`,
    );
  let body: unknown;
  try {
    body = res.body === "" ? {} : (JSON.parse(res.body) as unknown);
  } catch (err) {
    return [...problems, `${operation}: body is not JSON: ${(err as Error).message}`];
  }
  if (isError) return [...problems, ...validateJsonError(model, operation, body, res, opts)];
  const output = operationOutput(model, operation);
  if (output === undefined) {
    if (!isPlainObject(body) || Object.keys(body).length > 0)
      problems.push(`${operation}: expected {} for an operation without output`);
    return problems;
  }
  return [...problems, ...validateJsonWire(model, output, body, "$", opts)];
}

function validateQueryEnvelope(
  model: SmithyModel,
  operation: string,
  root: XmlElement,
  opts: ValidateOptions,
): string[] {
  const problems: string[] = [];
  if (root.name !== `${operation}Response`)
    problems.push(`root element <${root.name}>, expected <${operation}Response>`);
  const ns = root.attributes["xmlns"];
  if (model.xmlNamespace !== undefined && ns !== model.xmlNamespace)
    problems.push(`root xmlns ${JSON.stringify(ns)}, expected ${JSON.stringify(model.xmlNamespace)}`);
  const output = operationOutput(model, operation);
  const allowed = new Set(["ResponseMetadata", ...(output !== undefined ? [`${operation}Result`] : [])]);
  for (const c of root.children)
    if (!allowed.has(c.name)) problems.push(`unexpected element <${c.name}> in <${root.name}>`);
  const meta = childNamed(root, "ResponseMetadata");
  if (meta === undefined) problems.push("<ResponseMetadata> missing");
  else {
    const rid = childNamed(meta, "RequestId");
    if (rid === undefined || rid.text.trim() === "")
      problems.push("<ResponseMetadata><RequestId> missing or empty");
    for (const c of meta.children)
      if (c.name !== "RequestId") problems.push(`unexpected element <${c.name}> in <ResponseMetadata>`);
  }
  if (output !== undefined) {
    const result = childNamed(root, `${operation}Result`);
    if (result === undefined) problems.push(`<${operation}Result> missing`);
    else problems.push(...validateXmlWire(model, output, result, "$", opts));
  }
  return problems;
}

function validateQueryError(
  model: SmithyModel,
  operation: string,
  root: XmlElement,
  status: number,
): string[] {
  const problems: string[] = [];
  if (root.name !== "ErrorResponse") problems.push(`error root <${root.name}>, expected <ErrorResponse>`);
  const error = childNamed(root, "Error");
  if (error === undefined) return [...problems, "<Error> missing"];
  const code = childNamed(error, "Code")?.text ?? "";
  const type = childNamed(error, "Type")?.text;
  if (type !== (status >= 500 ? "Receiver" : "Sender"))
    problems.push(`<Type> ${JSON.stringify(type)} for status ${status}`);
  if (childNamed(error, "Message") === undefined) problems.push("<Error><Message> missing");
  if (childNamed(root, "RequestId") === undefined) problems.push("<RequestId> missing in <ErrorResponse>");
  const modeled = operationErrors(model, operation).find((e) => e.code === code);
  if (modeled === undefined && !COMMON_ERROR_CODES.has(code))
    problems.push(`error code ${JSON.stringify(code)} is not modeled for ${operation}`);
  if (modeled?.httpStatus !== undefined && modeled.httpStatus !== status)
    problems.push(`error ${code} with status ${status}, model says ${modeled.httpStatus}`);
  return problems;
}

function validateJsonError(
  model: SmithyModel,
  operation: string,
  body: unknown,
  res: RawHttpResponse,
  opts: ValidateOptions,
): string[] {
  const problems: string[] = [];
  if (!isPlainObject(body)) return [`${operation}: error body is not an object`];
  const rawType =
    header(res, "x-amzn-errortype") ?? (typeof body["__type"] === "string" ? body["__type"] : "");
  const code = (rawType.split(/[,:]/)[0] ?? "").split("#").pop() ?? "";
  const modeled = operationErrors(model, operation).find((e) => e.code === code);
  if (modeled === undefined) {
    if (!COMMON_ERROR_CODES.has(code))
      problems.push(`error code ${JSON.stringify(code)} is not modeled for ${operation}`);
    return problems;
  }
  // awsJson services answer many client errors (throttling included) with a plain 400 whatever the
  // model's @httpError says, and the SDK routes on the error code; so 400 passes for any 4xx error.
  const clientError = modeled.httpStatus !== undefined && modeled.httpStatus < 500;
  if (
    modeled.httpStatus !== undefined &&
    modeled.httpStatus !== res.statusCode &&
    !(clientError && res.statusCode === 400)
  )
    problems.push(`error ${code} with status ${res.statusCode}, model says ${modeled.httpStatus}`);
  const shape = getShape(model, modeled.shapeId);
  const { __type: _type, ...rest } = body;
  // The SDK reads the message from either spelling, so accept the one the shape doesn't use.
  const normalized: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) {
    const members = shape.members ?? {};
    if (!(k in members) && (k === "message" || k === "Message")) {
      const other = k === "message" ? "Message" : "message";
      if (other in members) normalized[other] = v;
      continue;
    }
    normalized[k] = v;
  }
  problems.push(...validateJsonWire(model, modeled.shapeId, normalized, "$error", opts));
  return problems;
}
