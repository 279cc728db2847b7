import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  EntitlementSlug,
  OPERATIONS,
  PageRequest,
  isOperation,
  permissionSetSlug,
  SchemaError,
  asyncApiDocument,
  createSubjects,
  deterministicId,
  messageJsonSchemas,
  pageRequest,
  parseOrThrow,
} from "./index.ts";

const base = {
  runId: "5b1f6a52-8f0e-4c8e-9a55-0f2b4a8f6b11",
  sourceId: "acme",
  service: "sso-admin",
  operation: "ListPermissionSets",
  params: { InstanceArn: "arn:aws:sso:::instance/ssoins-1" },
  pageToken: null,
  accountId: null,
  scope: null,
  pageIndex: 0,
} as const;

describe("contracts", () => {
  it("task ids are deterministic and depend on every identifying field", () => {
    const a = pageRequest({ ...base, params: { ...base.params } });
    expect(pageRequest({ ...base, params: { ...base.params } }).taskId).toBe(a.taskId);
    expect(pageRequest({ ...base, pageToken: "t2" }).taskId).not.toBe(a.taskId);
    // Deriving a child from its parent must not inherit the parent's id.
    expect(pageRequest({ ...a, pageToken: "t2" }).taskId).toBe(
      pageRequest({ ...base, pageToken: "t2" }).taskId,
    );
    expect(deterministicId({ a: 1, b: 2 })).toBe(deterministicId({ b: 2, a: 1 }));
  });

  it("a payload failing its schema is a SchemaError naming the field", () => {
    const bad = { ...pageRequest(base), runId: "nope" };
    expect(() => parseOrThrow(PageRequest, bad, "page request")).toThrow(SchemaError);
    expect(() => parseOrThrow(PageRequest, bad, "page request")).toThrow(/runId/);
  });

  it("a page request must name an operation of the catalog", () => {
    expect(parseOrThrow(PageRequest, pageRequest(base), "page request").operation).toBe("ListPermissionSets");
    for (const bad of [
      { ...base, operation: "ListUsers" }, // an identitystore and iam operation, not sso-admin's
      { ...base, operation: "DescribeAccount" },
    ]) {
      expect(() => parseOrThrow(PageRequest, pageRequest(bad), "page request")).toThrow(/operation/);
    }
    expect(OPERATIONS.every(isOperation)).toBe(true);
    expect(isOperation("sso-admin.GetInlinePolicyForPermissionSet")).toBe(false);
  });

  it("entitlement slugs are the fixed ones or a permission set's", () => {
    expect(EntitlementSlug.parse("member")).toBe("member");
    expect(EntitlementSlug.parse(permissionSetSlug("arn:aws:sso:::permissionSet/ssoins-1/ps-1"))).toBe(
      "permission-set:arn:aws:sso:::permissionSet/ssoins-1/ps-1",
    );
    expect(EntitlementSlug.safeParse("owner").success).toBe(false);
    expect(EntitlementSlug.safeParse("permission-set:").success).toBe(false);
  });

  it("subjects reject tokens that NATS would split", () => {
    const s = createSubjects("gl");
    expect(s.pageRequest("acme", "iam")).toBe("gl.page.req.acme.iam");
    expect(s.pageRequestsFor("sso-admin")).toBe("gl.page.req.*.sso-admin");
    expect(() => s.pageRequestsFor(">")).toThrow(/service/);
    expect(() => s.batch("a.b")).toThrow(/source id/);
    expect(createSubjects("t1").streams.batches).toBe("T1_BATCH");
  });

  it("the committed JSON Schema and AsyncAPI docs are current (npm run gen:contracts)", () => {
    const docs = new URL("../../../docs/", import.meta.url);
    for (const [name, schema] of Object.entries(messageJsonSchemas())) {
      expect(JSON.parse(readFileSync(new URL(`json-schema/${name}.json`, docs), "utf8"))).toEqual(schema);
    }
    expect(JSON.parse(readFileSync(new URL("asyncapi.json", docs), "utf8"))).toEqual(asyncApiDocument());
  });
});
