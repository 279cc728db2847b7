// Builds, from the documented model examples, an organization in which each example's request is
// answerable with its documented response: the users, groups, roles, accounts, OUs and roots are named
// (and, where the example shows them, identified and dated) exactly as the examples name them.
// Where examples contradict each other (the same group with two ids), the first one wins; the replay
// test lists those contradictions.
import type { z } from "zod";
import { OrgDocument } from "../org-document.ts";
import { supportedExamples } from "./examples.ts";
import type { OperationExample } from "./examples.ts";

type OrgInput = z.input<typeof OrgDocument>;
type AccountInput = z.input<typeof OrgDocument>["accounts"][number];
type IamInput = NonNullable<AccountInput["iam"]>;
type UserInput = NonNullable<IamInput["users"]>[number];
type GroupInput = NonNullable<IamInput["groups"]>[number];
type RoleInput = NonNullable<IamInput["roles"]>[number];

const DEFAULT_DATE = "2016-01-01T00:00:00Z";
const ALLOW_ALL = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
});

/** Secret access key the examples org gives an access key (the examples never show secrets). */
export const exampleSecretFor = (accessKeyId: string): string =>
  `examples/${accessKeyId}/secretAccessKeyExample`;

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);
const obj = (v: unknown): Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function pathOf(arn: string | undefined, kind: string, name: string): string | undefined {
  if (arn === undefined) return undefined;
  const m = new RegExp(`:${kind}(/.*/|/)${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`).exec(arn);
  return m?.[1];
}

class ExamplesOrgBuilder {
  orgId = "o-exampleorgid";
  managementAccountId = "111111111111";
  managementEmail = "management@example.com";
  featureSet: "ALL" | "CONSOLIDATED_BILLING" = "ALL";
  roots: OrgDocument["roots"] = [];
  ous: { id: string; name: string; parentId: string }[] = [];
  accounts = new Map<
    string,
    { id: string; name?: string; email?: string; parentId?: string; status?: "ACTIVE" | "SUSPENDED" }
  >();
  users = new Map<string, UserInput>();
  groups = new Map<string, GroupInput>();
  roles = new Map<string, RoleInput>();
  aliases: string[] = [];
  private counter = 0;

  constructor(readonly iamAccountId: string) {}

  private nextId(prefix: string): string {
    this.counter += 1;
    return `${prefix}EXAMPLEORG${String(this.counter).padStart(7, "0")}`;
  }

  private isGenerated(id: string): boolean {
    return id.slice(4).startsWith("EXAMPLEORG");
  }

  user(name: string, from: Record<string, unknown> = {}): UserInput {
    let u = this.users.get(name);
    if (u === undefined) {
      u = {
        name,
        id: str(from["UserId"]) ?? this.nextId("AIDA"),
        path: str(from["Path"]) ?? pathOf(str(from["Arn"]), "user", name) ?? "/",
        createDate: str(from["CreateDate"]) ?? DEFAULT_DATE,
        passwordLastUsed: str(from["PasswordLastUsed"]),
        groups: [],
        accessKeys: [],
        inlinePolicies: [],
      };
      this.users.set(name, u);
    } else {
      // Fill what an earlier example left out; never overwrite what it showed.
      if (str(from["PasswordLastUsed"]) !== undefined) u.passwordLastUsed ??= str(from["PasswordLastUsed"]);
      if (str(from["UserId"]) !== undefined && this.isGenerated(u.id)) u.id = str(from["UserId"]) ?? u.id;
    }
    return u;
  }

  group(name: string, from: Record<string, unknown> = {}): GroupInput {
    let g = this.groups.get(name);
    if (g === undefined) {
      g = {
        name,
        id: str(from["GroupId"]) ?? this.nextId("AGPA"),
        path: str(from["Path"]) ?? pathOf(str(from["Arn"]), "group", name) ?? "/",
        createDate: str(from["CreateDate"]) ?? DEFAULT_DATE,
        inlinePolicies: [],
      };
      this.groups.set(name, g);
    } else if (str(from["GroupId"]) !== undefined && this.isGenerated(g.id)) {
      g.id = str(from["GroupId"]) ?? g.id;
    }
    return g;
  }

  role(name: string, from: Record<string, unknown> = {}): RoleInput {
    let r = this.roles.get(name);
    if (r === undefined) {
      r = {
        name,
        id: str(from["RoleId"]) ?? this.nextId("AROA"),
        path: str(from["Path"]) ?? pathOf(str(from["Arn"]), "role", name) ?? "/",
        createDate: str(from["CreateDate"]) ?? DEFAULT_DATE,
        description: str(from["Description"]),
        maxSessionDuration: num(from["MaxSessionDuration"]) ?? 3600,
        trustPolicy: this.trustPolicy(undefined),
      };
      this.roles.set(name, r);
    } else if (str(from["RoleId"]) !== undefined && this.isGenerated(r.id)) {
      r.id = str(from["RoleId"]) ?? r.id;
    }
    return r;
  }

  trustPolicy(externalId: string | undefined): string {
    const statement: Record<string, unknown> = {
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${this.iamAccountId}:root` },
      Action: "sts:AssumeRole",
    };
    if (externalId !== undefined) statement["Condition"] = { StringEquals: { "sts:ExternalId": externalId } };
    return JSON.stringify({ Version: "2012-10-17", Statement: [statement] });
  }

  account(id: string): { id: string; name?: string; email?: string; parentId?: string } {
    let a = this.accounts.get(id);
    if (a === undefined) {
      a = { id };
      this.accounts.set(id, a);
    }
    return a;
  }

  apply(ex: OperationExample): void {
    const input = ex.input;
    const output = ex.output ?? {};
    switch (`${ex.service}:${ex.operation}`) {
      case "iam:ListUsers":
        for (const u of arr(output["Users"]).map(obj)) this.user(str(u["UserName"]) ?? "", u);
        return;
      case "iam:GetUser":
        this.user(str(obj(output["User"])["UserName"]) ?? str(input["UserName"]) ?? "", obj(output["User"]));
        return;
      case "iam:ListGroups":
        for (const g of arr(output["Groups"]).map(obj)) this.group(str(g["GroupName"]) ?? "", g);
        return;
      case "iam:ListGroupsForUser": {
        const u = this.user(str(input["UserName"]) ?? "");
        for (const g of arr(output["Groups"]).map(obj)) {
          const group = this.group(str(g["GroupName"]) ?? "", g);
          u.groups ??= [];
          if (!u.groups.includes(group.name)) u.groups.push(group.name);
        }
        return;
      }
      case "iam:GetRole": {
        const r = obj(output["Role"]);
        this.role(str(r["RoleName"]) ?? str(input["RoleName"]) ?? "", r);
        return;
      }
      case "iam:ListGroupPolicies": {
        const g = this.group(str(input["GroupName"]) ?? "");
        g.inlinePolicies ??= [];
        for (const name of arr(output["PolicyNames"]).map(String))
          g.inlinePolicies.push({ name, document: ALLOW_ALL });
        return;
      }
      case "iam:ListAccessKeys": {
        const u = this.user(str(input["UserName"]) ?? "");
        u.accessKeys ??= [];
        for (const k of arr(output["AccessKeyMetadata"]).map(obj)) {
          const id = str(k["AccessKeyId"]) ?? "";
          const status = str(k["Status"]) === "Inactive" ? "Inactive" : "Active";
          u.accessKeys.push({
            id,
            secret: exampleSecretFor(id),
            status,
            createDate: str(k["CreateDate"]) ?? DEFAULT_DATE,
          });
        }
        return;
      }
      case "iam:ListAccountAliases":
        this.aliases.push(...arr(output["AccountAliases"]).map(String));
        return;
      case "iam:CreateUser":
        // The user must not exist before the call; nothing to add.
        return;
      case "iam:AddUserToGroup":
      case "iam:RemoveUserFromGroup":
        this.user(str(input["UserName"]) ?? "");
        this.group(str(input["GroupName"]) ?? "");
        return;
      case "iam:AttachUserPolicy":
        this.user(str(input["UserName"]) ?? "");
        return;
      case "iam:AttachGroupPolicy":
        this.group(str(input["GroupName"]) ?? "");
        return;
      case "iam:AttachRolePolicy":
        this.role(str(input["RoleName"]) ?? "");
        return;
      case "sts:GetCallerIdentity": {
        const arn = str(output["Arn"]) ?? "";
        const userId = str(output["UserId"]) ?? "";
        const user = /^arn:aws:iam::\d{12}:user(\/.*\/|\/)([\w+=,.@-]+)$/.exec(arn);
        if (user !== null) this.user(user[2] ?? "", { UserId: userId, Path: user[1] });
        const assumed = /^arn:aws:sts::\d{12}:assumed-role\/([\w+=,.@-]+)\/[\w+=,.@-]+$/.exec(arn);
        if (assumed !== null) this.role(assumed[1] ?? "", { RoleId: userId.split(":")[0] });
        return;
      }
      case "sts:AssumeRole": {
        const m = /^arn:aws:iam::\d{12}:role(\/.*\/|\/)([\w+=,.@-]+)$/.exec(str(input["RoleArn"]) ?? "");
        if (m === null) return;
        const roleId = (str(obj(output["AssumedRoleUser"])["AssumedRoleId"]) ?? "").split(":")[0];
        const r = this.role(m[2] ?? "", { RoleId: roleId, Path: m[1] });
        r.trustPolicy = this.trustPolicy(str(input["ExternalId"]));
        return;
      }
      case "organizations:DescribeOrganization": {
        const o = obj(output["Organization"]);
        this.orgId = str(o["Id"]) ?? this.orgId;
        this.managementAccountId =
          str(o["MasterAccountId"]) ??
          /:account\/o-[a-z0-9]+\/(\d{12})$/.exec(str(o["MasterAccountArn"]) ?? "")?.[1] ??
          this.managementAccountId;
        this.managementEmail = str(o["MasterAccountEmail"]) ?? this.managementEmail;
        this.featureSet = str(o["FeatureSet"]) === "CONSOLIDATED_BILLING" ? "CONSOLIDATED_BILLING" : "ALL";
        return;
      }
      case "organizations:DescribeAccount": {
        const a = obj(output["Account"]);
        const acct = this.account(str(a["Id"]) ?? str(input["AccountId"]) ?? "");
        acct.name = str(a["Name"]);
        acct.email = str(a["Email"]);
        return;
      }
      case "organizations:ListRoots":
        for (const r of arr(output["Roots"]).map(obj))
          this.roots.push({
            id: str(r["Id"]) ?? "",
            name: str(r["Name"]) ?? "Root",
            policyTypes: arr(r["PolicyTypes"])
              .map(obj)
              .map((t) => ({ type: str(t["Type"]), status: str(t["Status"]) }))
              .filter(
                (t): t is OrgDocument["roots"][number]["policyTypes"][number] =>
                  (t.type === "SERVICE_CONTROL_POLICY" || t.type === "RESOURCE_CONTROL_POLICY") &&
                  (t.status === "ENABLED" || t.status === "PENDING_ENABLE" || t.status === "PENDING_DISABLE"),
              ),
          });
        return;
      case "organizations:ListOrganizationalUnitsForParent":
        for (const ou of arr(output["OrganizationalUnits"]).map(obj)) {
          this.ous.push({
            id: str(ou["Id"]) ?? "",
            name: str(ou["Name"]) ?? "",
            parentId: str(input["ParentId"]) ?? "",
          });
        }
        return;
      case "organizations:ListParents": {
        const child = str(input["ChildId"]) ?? "";
        const parent = str(obj(arr(output["Parents"])[0])["Id"]) ?? "";
        if (/^\d{12}$/.test(child)) this.account(child).parentId = parent;
        else {
          const ou = this.ous.find((o) => o.id === child);
          if (ou !== undefined) ou.parentId = parent;
        }
        return;
      }
      default:
        return;
    }
  }

  build(): OrgDocument {
    const rootId = this.roots[0]?.id ?? "r-examplerootid111";
    if (this.roots.length === 0) this.roots.push({ id: rootId, name: "Root", policyTypes: [] });
    // ListParents may name an OU before ListOrganizationalUnitsForParent defines it.
    for (const a of this.accounts.values()) {
      if (a.parentId !== undefined && a.parentId !== rootId && !this.ous.some((o) => o.id === a.parentId)) {
        this.ous.push({ id: a.parentId, name: a.parentId, parentId: rootId });
      }
    }
    this.account(this.managementAccountId);
    this.account(this.iamAccountId);
    const accounts: AccountInput[] = [...this.accounts.values()].map((a) => ({
      id: a.id,
      name:
        a.name ??
        (a.id === this.managementAccountId
          ? "Management"
          : a.id === this.iamAccountId
            ? "Example Corporation"
            : `Account ${a.id}`),
      email:
        a.email ?? (a.id === this.managementAccountId ? this.managementEmail : `aws+${a.id}@example.com`),
      status: "ACTIVE",
      parentId: a.parentId ?? rootId,
      joinedMethod: a.id === this.managementAccountId ? "INVITED" : "CREATED",
      joinedTimestamp: DEFAULT_DATE,
      iam:
        a.id === this.iamAccountId
          ? {
              aliases: this.aliases,
              users: [...this.users.values()],
              groups: [...this.groups.values()],
              roles: [...this.roles.values()],
              policies: [],
            }
          : undefined,
    }));
    const doc: OrgInput = {
      organization: {
        id: this.orgId,
        managementAccountId: this.managementAccountId,
        featureSet: this.featureSet,
      },
      roots: this.roots,
      organizationalUnits: this.ous,
      accounts,
    };
    return OrgDocument.parse(doc);
  }
}

/** Account the IAM and STS examples live in (the account of the first IAM ARN they show). */
export function examplesIamAccountId(examples: readonly OperationExample[]): string {
  for (const ex of examples) {
    if (ex.service === "organizations") continue;
    const m = /arn:aws:(?:iam|sts)::(\d{12}):/.exec(JSON.stringify([ex.input, ex.output]));
    if (m?.[1] !== undefined) return m[1];
  }
  return "123456789012";
}

/**
 * The organization the model examples describe. Organizations examples set the organization, its
 * management account, roots, OUs and member accounts; IAM and STS examples populate the IAM of the
 * account their ARNs name (123456789012), which is a member account.
 */
export function buildExamplesOrg(examples: readonly OperationExample[] = supportedExamples()): OrgDocument {
  const builder = new ExamplesOrgBuilder(examplesIamAccountId(examples));
  // Organizations first, so that ListParents can place accounts under OUs already known.
  const ordered = [
    ...examples.filter((e) => e.service === "organizations"),
    ...examples.filter((e) => e.service !== "organizations"),
  ];
  for (const ex of ordered) builder.apply(ex);
  return builder.build();
}

/** Access key of a user in the examples org, with the secret the org document gives it. */
export function exampleUserCredentials(
  org: OrgDocument,
  userName: string,
): { accessKeyId: string; secretAccessKey: string } {
  for (const a of org.accounts) {
    const key = a.iam.users.find((u) => u.name === userName)?.accessKeys.find((k) => k.status === "Active");
    if (key !== undefined)
      return { accessKeyId: key.id, secretAccessKey: key.secret ?? exampleSecretFor(key.id) };
  }
  throw new Error(`no active access key for ${userName} in the examples org`);
}

/** The org without one IAM user (for replaying CreateUser, whose user must not exist yet). */
export function withoutIamUser(org: OrgDocument, userName: string): OrgDocument {
  const copy = structuredClone(org);
  for (const a of copy.accounts) a.iam.users = a.iam.users.filter((u) => u.name !== userName);
  return copy;
}
