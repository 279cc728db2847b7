// One generated account's IAM, apart from generateOrg's organization and Identity Center: the sync user (management
// account), the roles the management account assumes into members (names grantline's config refers to), and
// customer policies, users, groups and inline policies for the IAM mappers to meet.
import { AWS_MANAGED_POLICIES } from "./aws-managed-policies.ts";
import { accessKeyId, iamId, lower, secretKey } from "./ids.ts";
import type { Rng } from "./ids.ts";
import type { AccountDoc, IamGroupDoc, IamPolicyDoc, IamRoleDoc, IamUserDoc } from "./org-document.ts";

/** Name of the IAM user in the management account whose key is `managementCredentials`. */
export const SYNC_USER = "grantline-sync";
/** Role in every member account, trusted by the management account (no condition). */
export const ACCESS_ROLE = "OrganizationAccountAccessRole";
/** Role in every member account, trusted by the management account with `sts:ExternalId` = EXTERNAL_ID. */
export const AUDIT_ROLE = "GrantlineAuditRole";
export const EXTERNAL_ID = "grantline-external-id";

function trust(principal: string, externalId?: string): string {
  const stmt: Record<string, unknown> = {
    Effect: "Allow",
    Principal: { AWS: principal },
    Action: "sts:AssumeRole",
  };
  if (externalId) stmt.Condition = { StringEquals: { "sts:ExternalId": externalId } };
  return JSON.stringify({ Version: "2012-10-17", Statement: [stmt] });
}
const AWS_ARNS = [...AWS_MANAGED_POLICIES.keys()];
const mk = (n: number) => Array.from({ length: n }, (_, i) => i);

function customerPolicies(rng: Rng, t: () => string): IamPolicyDoc[] {
  return mk(2).map((i) => {
    const name = i === 0 ? "deploy-policy" : "s3-readers+logs";
    return {
      name,
      id: iamId(rng, "ANPA"),
      path: i === 0 ? "/" : "/teams/",
      description: `Customer policy ${name}`,
      createDate: t(),
      updateDate: undefined,
      defaultVersionId: "v2",
      versions: [
        {
          versionId: "v1",
          document: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
          }),
          createDate: t(),
        },
        {
          versionId: "v2",
          document: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: ["s3:GetObject", "logs:*"], Resource: "*" }],
          }),
          createDate: t(),
        },
      ],
    };
  });
}

function iamGroups(rng: Rng, t: () => string, custArns: string[]): IamGroupDoc[] {
  return ["admins", "developers", "read-only=team"].map((name, i) => ({
    name,
    id: iamId(rng, "AGPA"),
    path: "/",
    createDate: t(),
    attachedPolicies: i === 0 ? [AWS_ARNS[0]!] : i === 1 ? [custArns[0]!, AWS_ARNS[6]!] : [AWS_ARNS[2]!],
    inlinePolicies:
      i === 1
        ? [
            {
              name: "dev-inline",
              document:
                '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}',
            },
          ]
        : [],
  }));
}

function iamUsers(rng: Rng, t: () => string, isMgmt: boolean, custArns: string[]): IamUserDoc[] {
  const userNames = ["alice@example.com", "bob.ops", "ci+deploy", "carol_o=admin", "dave-ext,contractor"];
  return userNames.slice(0, isMgmt ? 5 : 2 + Math.floor(rng() * 3)).map((name, i) => {
    const neverUsed = rng() < 0.3;
    return {
      name,
      id: iamId(rng, "AIDA"),
      path: i === 2 ? "/automation/" : "/",
      createDate: t(),
      passwordLastUsed: i % 2 === 0 ? t() : undefined,
      tags: i === 0 ? [{ Key: "team", Value: "platform" }] : [],
      groups:
        i === 0 ? ["admins"] : i === 1 ? ["developers", "read-only=team"] : i === 3 ? ["developers"] : [],
      attachedPolicies: i === 2 ? [custArns[1]!] : [],
      inlinePolicies:
        i === 2
          ? [
              {
                name: "ci-extra",
                document:
                  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}',
              },
            ]
          : [],
      accessKeys:
        i >= 3
          ? []
          : [
              {
                id: accessKeyId(rng),
                secret: secretKey(rng),
                status: (i === 1 ? "Inactive" : "Active") as "Active" | "Inactive",
                createDate: t(),
                lastUsed: neverUsed ? undefined : { date: t(), service: "s3", region: "us-east-1" },
              },
            ],
    };
  });
}

/** The management account's user whose key is aws-sim's `managementCredentials`. */
function syncUser(rng: Rng, t: () => string): IamUserDoc {
  return {
    name: SYNC_USER,
    id: iamId(rng, "AIDA"),
    path: "/",
    createDate: t(),
    passwordLastUsed: undefined,
    tags: [],
    groups: [],
    attachedPolicies: [AWS_ARNS[2]!],
    inlinePolicies: [],
    accessKeys: [
      {
        id: accessKeyId(rng),
        secret: secretKey(rng),
        status: "Active",
        createDate: t(),
        lastUsed: undefined,
      },
    ],
  };
}

function iamRoles(
  rng: Rng,
  t: () => string,
  isMgmt: boolean,
  mgmt: string,
  custArns: string[],
): IamRoleDoc[] {
  return [
    {
      name: "app-runtime",
      trustPolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
        ],
      }),
      attached: [custArns[0]!],
    },
    ...(isMgmt
      ? []
      : [
          { name: ACCESS_ROLE, trustPolicy: trust(`arn:aws:iam::${mgmt}:root`), attached: [AWS_ARNS[0]!] },
          {
            name: AUDIT_ROLE,
            trustPolicy: trust(`arn:aws:iam::${mgmt}:root`, EXTERNAL_ID),
            attached: [AWS_ARNS[3]!, AWS_ARNS[2]!],
          },
        ]),
  ].map((r) => ({
    name: r.name,
    id: iamId(rng, "AROA"),
    path: "/",
    createDate: t(),
    description: `Role ${r.name}`,
    maxSessionDuration: 3600,
    trustPolicy: r.trustPolicy,
    tags: [],
    attachedPolicies: r.attached,
    inlinePolicies:
      r.name === "app-runtime"
        ? [
            {
              name: "runtime-inline",
              document:
                '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}]}',
            },
          ]
        : [],
  }));
}

export function accountIam(
  rng: Rng,
  acct: string,
  isMgmt: boolean,
  mgmt: string,
  t: () => string,
): AccountDoc["iam"] {
  const policies = customerPolicies(rng, t);
  const custArns = policies.map((p) => `arn:aws:iam::${acct}:policy${p.path}${p.name}`);
  const groups = iamGroups(rng, t, custArns);
  const users = iamUsers(rng, t, isMgmt, custArns);
  if (isMgmt) users.unshift(syncUser(rng, t));
  const roles = iamRoles(rng, t, isMgmt, mgmt, custArns);
  return {
    aliases: isMgmt ? ["acme-management"] : rng() < 0.5 ? [`acme-${lower(rng, 6)}`] : [],
    users,
    groups,
    roles,
    policies,
    samlProviders: [],
  };
}
