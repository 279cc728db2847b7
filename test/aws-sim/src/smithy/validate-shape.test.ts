import { describe, expect, it } from "vitest";
import { loadModel, operationErrors, operationOutput } from "./smithy-model.ts";
import { validateJsonWire, validateRawResponse, validateShape, validateXmlWire } from "./validate-shape.ts";
import { parseXml } from "./xml-tree.ts";

const iam = loadModel("iam-2010-05-08");
const sso = loadModel("sso-admin-2020-07-20");
const ids = loadModel("identitystore-2020-06-15");

const ListUsersResponse = "com.amazonaws.iam#ListUsersResponse";
const DescribePermissionSetResponse = "com.amazonaws.ssoadmin#DescribePermissionSetResponse";

const goodUsers = () => ({
  Users: [
    {
      Path: "/",
      UserName: "alice",
      UserId: "AIDAABCDEFGHIJKLMNOPQ",
      Arn: "arn:aws:iam::111122223333:user/alice",
      CreateDate: new Date("2024-01-15T10:00:00Z"),
    },
  ],
  IsTruncated: false,
});

const goodPermissionSet = () => ({
  PermissionSet: {
    Name: "ReadOnly",
    PermissionSetArn: "arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1234567890abcdef",
    Description: "read only",
    CreatedDate: new Date("2024-01-15T10:00:00Z"),
    SessionDuration: "PT1H",
  },
});

describe("smithy model", () => {
  it("finds output and error shapes", () => {
    expect(operationOutput(iam, "ListUsers")).toBe(ListUsersResponse);
    expect(operationOutput(iam, "AddUserToGroup")).toBeUndefined();
    expect(operationErrors(iam, "GetUser").map((e) => e.code)).toContain("NoSuchEntity");
    expect(operationErrors(ids, "DescribeUser").map((e) => e.code)).toContain("ThrottlingException");
    expect(iam.protocol).toBe("awsQuery");
    expect(sso.protocol).toBe("awsJson1_1");
  });
});

describe("validateShape (deserialized SDK values)", () => {
  it("accepts good values", () => {
    expect(
      validateShape(iam, ListUsersResponse, { ...goodUsers(), $metadata: { httpStatusCode: 200 } }),
    ).toEqual([]);
    expect(validateShape(sso, DescribePermissionSetResponse, goodPermissionSet())).toEqual([]);
    expect(validateShape(iam, ListUsersResponse, { Users: [] })).toEqual([]);
  });

  it("reports a missing required member", () => {
    const v = goodUsers();
    const { UserId: _omit, ...user } = v.Users[0]!;
    expect(validateShape(iam, ListUsersResponse, { ...v, Users: [user] })).toEqual([
      "$.Users[0].UserId: required member missing",
    ]);
    expect(validateShape(iam, ListUsersResponse, { IsTruncated: false })).toEqual([
      "$.Users: required member missing",
    ]);
  });

  it("reports wrong types", () => {
    const v = goodUsers();
    const bad = {
      ...v,
      IsTruncated: "false",
      Users: [{ ...v.Users[0]!, CreateDate: "2024-01-15T10:00:00Z" }],
    };
    const problems = validateShape(iam, ListUsersResponse, bad);
    expect(problems).toHaveLength(2);
    expect(problems.join("\n")).toMatch(/\$\.IsTruncated: expected a boolean/);
    expect(problems.join("\n")).toMatch(/\$\.Users\[0\]\.CreateDate: expected a Date/);
    const ps = goodPermissionSet();
    expect(
      validateShape(sso, DescribePermissionSetResponse, { PermissionSet: { ...ps.PermissionSet, Name: 7 } }),
    ).toEqual([
      "$.PermissionSet.Name: expected a string (com.amazonaws.ssoadmin#PermissionSetName), got number 7",
    ]);
  });

  it("reports unknown members", () => {
    const ps = goodPermissionSet();
    expect(
      validateShape(sso, DescribePermissionSetResponse, {
        PermissionSet: { ...ps.PermissionSet, SessionDurationSeconds: 3600 },
      }),
    ).toEqual([
      "$.PermissionSet.SessionDurationSeconds: unknown member (not in com.amazonaws.ssoadmin#PermissionSet)",
    ]);
  });

  it("checks enum values, patterns and unions", () => {
    const keys = {
      AccessKeyMetadata: [
        { UserName: "alice", AccessKeyId: "AKIAABCDEFGHIJKLMNOP", Status: "Enabled", CreateDate: new Date() },
      ],
      IsTruncated: false,
    };
    expect(validateShape(iam, "com.amazonaws.iam#ListAccessKeysResponse", keys).join()).toMatch(
      /not one of the enum values Active\|Inactive/,
    );
    const ps = goodPermissionSet();
    expect(
      validateShape(sso, DescribePermissionSetResponse, {
        PermissionSet: {
          ...ps.PermissionSet,
          PermissionSetArn: "arn:aws:sso:us-east-1:111122223333:permissionSet/x",
        },
      }).join(),
    ).toMatch(/does not match pattern/);
    const uuid = (n: number) => `abcdef0123-${String(n).repeat(8)}-1111-2222-3333-444455556666`;
    const membership = {
      IdentityStoreId: "d-1234567890",
      MembershipId: uuid(1),
      GroupId: uuid(2),
      MemberId: { UserId: uuid(3) },
    };
    expect(validateShape(ids, "com.amazonaws.identitystore#GroupMembership", membership)).toEqual([]);
    expect(
      validateShape(ids, "com.amazonaws.identitystore#GroupMembership", {
        ...membership,
        MemberId: {},
      }).join(),
    ).toMatch(/exactly one member/);
  });
});

describe("validateJsonWire (raw awsJson1_1 body)", () => {
  it("wants epoch-second timestamps", () => {
    const ps = { PermissionSet: { ...goodPermissionSet().PermissionSet, CreatedDate: 1705312800 } };
    expect(validateJsonWire(sso, DescribePermissionSetResponse, ps)).toEqual([]);
    expect(
      validateJsonWire(sso, DescribePermissionSetResponse, {
        PermissionSet: { ...ps.PermissionSet, CreatedDate: "2024-01-15T10:00:00Z" },
      }).join(),
    ).toMatch(/epoch seconds/);
    expect(
      validateJsonWire(sso, DescribePermissionSetResponse, {
        PermissionSet: { ...ps.PermissionSet, CreatedDate: 1705312800000 },
      }).join(),
    ).toMatch(/milliseconds/);
    expect(
      validateJsonWire(sso, DescribePermissionSetResponse, {
        PermissionSet: { ...ps.PermissionSet, Relay: "x" },
      }).join(),
    ).toMatch(/unknown member/);
  });

  it("checks a whole raw response, errors included", () => {
    const headers = { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": "r1" };
    const body = JSON.stringify({
      PermissionSet: { ...goodPermissionSet().PermissionSet, CreatedDate: 1705312800 },
    });
    expect(validateRawResponse(sso, "DescribePermissionSet", { statusCode: 200, headers, body })).toEqual([]);
    const err = JSON.stringify({ __type: "ResourceNotFoundException", Message: "nope" });
    expect(
      validateRawResponse(sso, "DescribePermissionSet", { statusCode: 404, headers, body: err }),
    ).toEqual([]);
    expect(
      validateRawResponse(sso, "DescribePermissionSet", {
        statusCode: 404,
        headers,
        body: JSON.stringify({ __type: "NoSuchThing" }),
      }).join(),
    ).toMatch(/not modeled/);
  });
});

describe("validateXmlWire (raw awsQuery XML)", () => {
  const envelope = (result: string) =>
    `<?xml version="1.0"?>\n<ListUsersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">\n  <ListUsersResult>${result}</ListUsersResult>\n  <ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata>\n</ListUsersResponse>`;
  const user = (extra = "") =>
    `<member><Path>/</Path><UserName>a&#46;b</UserName><UserId>AIDAABCDEFGHIJKLMNOPQ</UserId><Arn>arn:aws:iam::111122223333:user/ab</Arn><CreateDate>2024-01-15T10:00:00Z</CreateDate>${extra}</member>`;
  const headers = { "content-type": "text/xml", "x-amzn-requestid": "r1" };

  it("parses XML with entities", () => {
    const root = parseXml(
      `<?xml version="1.0"?><a x="1 &lt; 2"><b>&#65;&#x42;&quot;&apos;&gt;</b><c/><!-- c --></a>`,
    );
    expect(root.attributes["x"]).toBe("1 < 2");
    expect(root.children.map((c) => c.name)).toEqual(["b", "c"]);
    expect(root.children[0]?.text).toBe(`AB"'>`);
    expect(() => parseXml("<a><b></a>")).toThrow(/closes/);
  });

  it("accepts a good response", () => {
    const body = envelope(`<Users>${user()}</Users><IsTruncated>false</IsTruncated>`);
    expect(validateRawResponse(iam, "ListUsers", { statusCode: 200, headers, body })).toEqual([]);
    expect(
      validateRawResponse(iam, "ListUsers", {
        statusCode: 200,
        headers,
        body: envelope("<Users/><IsTruncated>false</IsTruncated>"),
      }),
    ).toEqual([]);
  });

  it("reports unknown elements, wrong types and missing required members", () => {
    const result = parseXml(
      `<R><Users>${user("<Tagz/>")}<user/></Users><IsTruncated>False</IsTruncated></R>`,
    );
    const problems = validateXmlWire(iam, ListUsersResponse, result);
    expect(problems).toEqual([
      "$.Users[0].Tagz: unknown element (not a member of com.amazonaws.iam#User)",
      "$.Users[1]: list item element is <user>, expected <member>",
      '$.IsTruncated: boolean must be exactly true|false, got "False"',
    ]);
    expect(
      validateXmlWire(iam, ListUsersResponse, parseXml("<R><IsTruncated>true</IsTruncated></R>")),
    ).toEqual(["$.Users: required member missing"]);
    const badDate = parseXml(
      `<R><Users>${user().replace("2024-01-15T10:00:00Z", "2024-01-15 10:00:00")}</Users></R>`,
    );
    expect(validateXmlWire(iam, ListUsersResponse, badDate).join()).toMatch(/ISO-8601/);
  });

  it("checks the envelope and error responses", () => {
    const noResult = `<ListUsersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListUsersResponse>`;
    expect(validateRawResponse(iam, "ListUsers", { statusCode: 200, headers, body: noResult })).toEqual([
      "<ListUsersResult> missing",
    ]);
    const err = `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>no</Message></Error><RequestId>r</RequestId></ErrorResponse>`;
    expect(validateRawResponse(iam, "GetUser", { statusCode: 404, headers, body: err })).toEqual([]);
    expect(validateRawResponse(iam, "GetUser", { statusCode: 400, headers, body: err })).toEqual([
      "error NoSuchEntity with status 400, model says 404",
    ]);
  });
});
