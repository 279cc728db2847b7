// Replays the documented examples (`smithy.api#examples`) of the IAM, STS and Organizations models
// against an aws-sim loaded with the examples org (examples-org.ts), through the real SDK clients, and
// compares the documented output members with what the SDK returns. Every example has an entry in
// REPLAY: either a replay (with the documented members it may not compare, each with its reason) or
// an exclusion with its reason. Raw wire responses are validated against the model as well.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsSim } from "../index.ts";
import type { AwsSim } from "../index.ts";
import type { OrgDocument } from "../org-document.ts";
import { compareDocumented } from "./compare-documented.ts";
import { buildExamplesOrg, exampleUserCredentials, withoutIamUser } from "./examples-org.ts";
import { EXAMPLE_MODELS, supportedExamples } from "./examples.ts";
import type { OperationExample } from "./examples.ts";
import { SdkHarness } from "./sdk-harness.ts";
import type { CallResult } from "./sdk-harness.ts";
import { loadModel, operationOutput } from "./smithy-model.ts";
import { validateRawResponse, validateShape } from "./validate-shape.ts";

interface Waiver {
  path: string;
  reason: string;
}
interface Correction extends Waiver {
  value: unknown;
}
interface Replay {
  /** Documented members not compared. */
  ignore?: Waiver[];
  /** Documented values that contradict the example's own input or the other examples, with the value AWS would return. */
  correct?: Correction[];
  /** Which sim/identity answers: default the examples sim as Alice (IAM, STS) or the management account (Organizations). */
  via?: "fresh-sim-without-user" | "assumed-role";
  /** A follow-up check of a mutation's effect. */
  verify?: (h: Harnesses) => Promise<string[]>;
}
interface Exclusion {
  exclude: string;
}

const ID_AND_DATE_OF_A_NEW_USER = "AWS generates the id and creation date of a user it creates";
const GROUP_IDS_DISAGREE =
  "the ListGroups and ListGroupsForUser examples give the same groups different ids; the examples org keeps the ListGroups ones";

/** One entry per documented example of a supported operation (the test fails if one is missing). */
const REPLAY: Record<string, Replay | Exclusion> = {
  "iam:ListUsers#0": {},
  "iam:GetUser#0": {},
  "iam:ListGroups#0": {
    correct: [
      {
        path: "Groups[0].Arn",
        value: "arn:aws:iam::123456789012:group/division_abc/subdivision_xyz/Admins",
        reason:
          "the example gives group Admins the path /division_abc/subdivision_xyz/ but an ARN without it; AWS ARNs include the path",
      },
    ],
  },
  "iam:ListGroupsForUser#0": {
    ignore: [{ path: "Groups[].GroupId", reason: GROUP_IDS_DISAGREE }],
  },
  "iam:GetRole#0": {
    ignore: [
      {
        path: "Role.AssumeRolePolicyDocument",
        reason: 'the example shows the placeholder "<URL-encoded-JSON>", not a document',
      },
      {
        path: "Role.RoleLastUsed",
        reason: "the OrgDocument schema has no role last-used data, so the sim cannot be loaded with it",
      },
    ],
  },
  "iam:ListGroupPolicies#0": {},
  "iam:ListAccessKeys#0": {},
  "iam:ListAccountAliases#0": {},
  "iam:CreateUser#0": {
    via: "fresh-sim-without-user",
    ignore: [
      { path: "User.UserId", reason: ID_AND_DATE_OF_A_NEW_USER },
      { path: "User.CreateDate", reason: ID_AND_DATE_OF_A_NEW_USER },
    ],
  },
  "iam:AddUserToGroup#0": {
    verify: async (h) =>
      groupsOf(h, "Bob").then((g) =>
        g.includes("Admins") ? [] : [`after AddUserToGroup, Bob's groups are ${g.join(",")}`],
      ),
  },
  "iam:RemoveUserFromGroup#0": {
    verify: async (h) =>
      groupsOf(h, "Bob").then((g) =>
        g.includes("Admins") ? [`after RemoveUserFromGroup, Bob is still in Admins`] : [],
      ),
  },
  "iam:AttachUserPolicy#0": {
    verify: async (h) =>
      attached(
        h,
        "ListAttachedUserPolicies",
        { UserName: "Alice" },
        "arn:aws:iam::aws:policy/AdministratorAccess",
      ),
  },
  "iam:AttachGroupPolicy#0": {
    verify: async (h) =>
      attached(
        h,
        "ListAttachedGroupPolicies",
        { GroupName: "Finance" },
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
      ),
  },
  "iam:AttachRolePolicy#0": {
    verify: async (h) =>
      attached(
        h,
        "ListAttachedRolePolicies",
        { RoleName: "ReadOnlyRole" },
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
      ),
  },
  "sts:GetCallerIdentity#0": {},
  "sts:GetCallerIdentity#1": { via: "assumed-role" },
  "sts:GetCallerIdentity#2": {
    exclude:
      "the caller is a federated user from GetFederationToken, which aws-sim does not emulate (not a supported operation)",
  },
  "sts:AssumeRole#0": {
    correct: [
      {
        path: "AssumedRoleUser.Arn",
        value: "arn:aws:sts::123456789012:assumed-role/demo/testAssumeRoleSession",
        reason:
          "the example's input RoleSessionName is testAssumeRoleSession but its output names the session Bob",
      },
      {
        path: "AssumedRoleUser.AssumedRoleId",
        value: "ARO123EXAMPLE123:testAssumeRoleSession",
        reason:
          "the example's input RoleSessionName is testAssumeRoleSession but its output names the session Bob",
      },
    ],
    ignore: [
      { path: "Credentials", reason: "temporary credentials are generated secrets and expiry times" },
      {
        path: "PackedPolicySize",
        reason:
          "AWS's packed (compressed) session-policy size is an opaque percentage the sim only approximates",
      },
    ],
  },
  "organizations:DescribeOrganization#0": {},
  "organizations:DescribeAccount#0": {},
  "organizations:ListRoots#0": {},
  "organizations:ListOrganizationalUnitsForParent#0": {
    correct: [
      {
        path: "OrganizationalUnits[0].Arn",
        value: "arn:aws:organizations::111111111111:ou/o-exampleorgid/ou-examplerootid111-exampleouid111",
        reason: 'the example\'s OU ARN misspells the OU id ("examlerootid111") it shows in Id',
      },
      {
        path: "OrganizationalUnits[1].Arn",
        value: "arn:aws:organizations::111111111111:ou/o-exampleorgid/ou-examplerootid111-exampleouid222",
        reason: 'the example\'s OU ARN misspells the OU id ("examlerootid111") it shows in Id',
      },
    ],
  },
  "organizations:ListParents#0": {},
};

interface Harnesses {
  /** IAM and STS as IAM user Alice of 123456789012 (the account the IAM examples live in). */
  alice: SdkHarness;
  /** Organizations as the management account. */
  management: SdkHarness;
}

async function groupsOf(h: Harnesses, user: string): Promise<string[]> {
  const res = await h.alice.call("iam", "ListGroupsForUser", { UserName: user });
  const groups = (res.output?.["Groups"] ?? []) as { GroupName?: string }[];
  return groups.map((g) => g.GroupName ?? "");
}

async function attached(h: Harnesses, op: string, input: object, arn: string): Promise<string[]> {
  const res = await h.alice.call("iam", op, input);
  const list = (res.output?.["AttachedPolicies"] ?? []) as { PolicyArn?: string }[];
  return list.some((p) => p.PolicyArn === arn)
    ? []
    : [
        `after the attach, ${op} ${JSON.stringify(input)} lacks ${arn}: ${res.error?.message ?? JSON.stringify(list)}`,
      ];
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(/\.|(?=\[)/).map((p) => (p.startsWith("[") ? Number(p.slice(1, -1)) : p));
  let cur: unknown = target;
  for (const [i, part] of parts.entries()) {
    if (typeof cur !== "object" || cur === null) throw new Error(`correction path ${path} does not exist`);
    const container = cur as Record<string | number, unknown>;
    if (i === parts.length - 1) {
      if (!(part in container)) throw new Error(`correction path ${path} does not exist`);
      container[part] = value;
    } else cur = container[part];
  }
}

const isExclusion = (r: Replay | Exclusion): r is Exclusion => "exclude" in r;
const examples = supportedExamples();

describe("model examples replayed against aws-sim", () => {
  let org: OrgDocument;
  let sim: AwsSim;
  let h: Harnesses;

  beforeAll(async () => {
    org = buildExamplesOrg(examples);
    sim = await startAwsSim({ org, rateLimits: false });
    const target = { url: sim.url, region: sim.region };
    h = {
      alice: new SdkHarness({ ...target, credentials: exampleUserCredentials(org, "Alice") }),
      management: new SdkHarness({ ...target, credentials: sim.managementCredentials }),
    };
  });

  afterAll(async () => {
    h.alice.close();
    h.management.close();
    await sim.close();
  });

  it("has a replay or a documented exclusion for every example, and no stale entries", () => {
    const ids = examples.map((e) => e.id);
    expect(ids.filter((id) => !(id in REPLAY))).toEqual([]);
    expect(Object.keys(REPLAY).filter((id) => !ids.includes(id))).toEqual([]);
  });

  it("documents its exclusions", () => {
    const excluded = Object.entries(REPLAY).flatMap(([id, r]) => (isExclusion(r) ? [id] : []));
    expect(excluded).toEqual(["sts:GetCallerIdentity#2"]);
  });

  async function run(
    ex: OperationExample,
    replay: Replay,
  ): Promise<{ res: CallResult; sdkUsed: SdkHarness; cleanup?: () => Promise<void> }> {
    if (replay.via === "fresh-sim-without-user") {
      const fresh = await startAwsSim({
        org: withoutIamUser(org, String(ex.input["UserName"])),
        rateLimits: false,
      });
      const sdkUsed = new SdkHarness({
        url: fresh.url,
        region: fresh.region,
        credentials: exampleUserCredentials(org, "Alice"),
      });
      const res = await sdkUsed.call(ex.service, ex.operation, ex.input);
      return {
        res,
        sdkUsed,
        cleanup: async () => {
          sdkUsed.close();
          await fresh.close();
        },
      };
    }
    if (replay.via === "assumed-role") {
      // The documented caller is a session of my-role-name named my-role-session-name.
      const m = /assumed-role\/([^/]+)\/([^/]+)$/.exec(String(ex.output?.["Arn"]));
      const assumed = await h.alice.call("sts", "AssumeRole", {
        RoleArn: `arn:aws:iam::123456789012:role/${m?.[1] ?? ""}`,
        RoleSessionName: m?.[2] ?? "",
      });
      const creds = assumed.output?.["Credentials"] as
        { AccessKeyId: string; SecretAccessKey: string; SessionToken: string } | undefined;
      if (creds === undefined)
        throw new Error(`AssumeRole for the example failed: ${assumed.error?.message ?? "no credentials"}`);
      const sdkUsed = new SdkHarness({
        url: sim.url,
        region: sim.region,
        credentials: {
          accessKeyId: creds.AccessKeyId,
          secretAccessKey: creds.SecretAccessKey,
          sessionToken: creds.SessionToken,
        },
      });
      const res = await sdkUsed.call(ex.service, ex.operation, ex.input);
      return { res, sdkUsed, cleanup: async () => sdkUsed.close() };
    }
    const sdkUsed = ex.service === "organizations" ? h.management : h.alice;
    return { res: await sdkUsed.call(ex.service, ex.operation, ex.input), sdkUsed };
  }

  for (const ex of examples) {
    const replay = REPLAY[ex.id];
    if (replay === undefined) continue; // reported by the completeness test above
    const name = `${ex.id} — ${ex.title}`;
    if (isExclusion(replay)) {
      // An excluded example is asserted to be unreplayable for the stated reason rather than skipped silently.
      it(`${name} is excluded: ${replay.exclude}`, () => expect(replay.exclude.length).toBeGreaterThan(10));
      continue;
    }
    it(name, async () => {
      const model = loadModel(EXAMPLE_MODELS[ex.service]);
      const { res, cleanup } = await run(ex, replay);
      try {
        const problems: string[] = [];
        if (res.error !== undefined) problems.push(`call failed: ${res.error.name}: ${res.error.message}`);
        if (res.raw !== undefined)
          problems.push(...validateRawResponse(model, ex.operation, res.raw).map((p) => `wire: ${p}`));
        const outputShape = operationOutput(model, ex.operation);
        if (res.output !== undefined && outputShape !== undefined) {
          problems.push(...validateShape(model, outputShape, res.output).map((p) => `sdk: ${p}`));
          if (ex.output !== undefined) {
            const documented = structuredClone(ex.output);
            for (const c of replay.correct ?? []) setPath(documented, c.path, c.value);
            const ignore = (replay.ignore ?? []).map((w) => w.path);
            problems.push(
              ...compareDocumented(model, outputShape, documented, res.output, { ignore }).map(
                (p) => `documented: ${p}`,
              ),
            );
          }
        }
        if (replay.verify !== undefined && res.error === undefined)
          problems.push(...(await replay.verify(h)));
        expect(problems, `${ex.id} input ${JSON.stringify(ex.input)}`).toEqual([]);
      } finally {
        await cleanup?.();
      }
    });
  }
});
