// The reference the pipeline is measured against: one process, one AWS call at a time, the same SDK v3 clients
// (standard retry, 3 attempts — the SDK default grantline also uses), walking exactly the operations the pipeline
// walks and collecting the rows in memory under grantline's id scheme (see libs/model/src/aws/*.ts).
import {
  DescribeOrganizationCommand,
  DescribePolicyCommand,
  ListAccountsCommand,
  ListOrganizationalUnitsForParentCommand,
  ListParentsCommand,
  ListPoliciesCommand,
  ListRootsCommand,
  ListTargetsForPolicyCommand,
  OrganizationsClient,
  type PolicyType,
} from "@aws-sdk/client-organizations";
import {
  DescribePermissionSetCommand,
  GetInlinePolicyForPermissionSetCommand,
  GetPermissionsBoundaryForPermissionSetCommand,
  ListAccountAssignmentsCommand,
  ListAccountsForProvisionedPermissionSetCommand,
  ListCustomerManagedPolicyReferencesInPermissionSetCommand,
  ListInstancesCommand,
  ListManagedPoliciesInPermissionSetCommand,
  ListPermissionSetsCommand,
  SSOAdminClient,
} from "@aws-sdk/client-sso-admin";
import {
  IdentitystoreClient,
  ListGroupMembershipsCommand,
  ListGroupsCommand,
  ListUsersCommand,
} from "@aws-sdk/client-identitystore";
import {
  GetAccessKeyLastUsedCommand,
  GetAccountAuthorizationDetailsCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAccountAliasesCommand,
} from "@aws-sdk/client-iam";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { ActualRows } from "@grantline/e2e";
import {
  accountPermissionSetEntitlementId,
  grantId,
  groupMemberEntitlementId,
  orgPolicyAttachedEntitlementId,
} from "@grantline/model";

export interface ReferenceResult {
  rows: ActualRows;
  wallMs: number;
  /** Calls made by this process, per `service:Operation` (retries inside the SDK not counted). */
  calls: Record<string, number>;
}

export interface ReferenceOptions {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /**
   * Also walk the caller's own account's IAM as the pipeline does when IAM is enabled (GetCallerIdentity, GAAD,
   * ListAccessKeys per user, GetAccessKeyLastUsed per key, ListAccountAliases). Only the calls are made: IAM rows
   * are not collected (grantline's IAM rows are compared with the ground truth instead).
   */
  iam?: boolean;
  /** With `iam`: also every ACTIVE member account, through AssumeRole into this role (as grantline's crossAccount). */
  iamRoleName?: string;
}

/** Drains a NextToken-paged operation one page at a time. */
async function pages<T extends { NextToken?: string | undefined }>(
  fetch: (token: string | undefined) => Promise<T>,
): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const page = await fetch(token);
    out.push(page);
    token = page.NextToken ? page.NextToken : undefined;
  } while (token);
  return out;
}

/** One reference run's clients, call counts and collected rows, shared by the walks below. */
interface Walk {
  common: {
    endpoint: string;
    region: string;
    credentials: ReferenceOptions["credentials"];
    maxAttempts: number;
  };
  orgs: OrganizationsClient;
  sso: SSOAdminClient;
  ids: IdentitystoreClient;
  iam: IAMClient;
  sts: STSClient;
  calls: Record<string, number>;
  count(op: string): void;
  rows: ActualRows;
  resource(type: string, id: string, name: string, parent: [string, string] | null): void;
}

function startWalk(o: ReferenceOptions): Walk {
  const common = { endpoint: o.endpoint, region: o.region, credentials: o.credentials, maxAttempts: 3 };
  const calls: Record<string, number> = {};
  const rows: ActualRows = { resources: [], entitlements: [], grants: [] };
  return {
    common,
    orgs: new OrganizationsClient(common),
    sso: new SSOAdminClient(common),
    ids: new IdentitystoreClient(common),
    iam: new IAMClient(common),
    sts: new STSClient(common),
    calls,
    count: (op) => {
      calls[op] = (calls[op] ?? 0) + 1;
    },
    rows,
    resource: (type, id, name, parent) => {
      rows.resources.push({
        type,
        id,
        name,
        parent_type: parent?.[0] ?? null,
        parent_id: parent?.[1] ?? null,
      });
    },
  };
}

/** One account's IAM, the calls grantline makes: GAAD pages, aliases, access keys per user, last use per key. */
async function walkIam(w: Walk, client: IAMClient): Promise<void> {
  const { count } = w;
  const details = [];
  let Marker: string | undefined;
  do {
    count("iam:GetAccountAuthorizationDetails");
    const page = await client.send(
      new GetAccountAuthorizationDetailsCommand({
        Filter: ["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"],
        MaxItems: 1000,
        Marker,
      }),
    );
    details.push(page);
    Marker = page.IsTruncated && page.Marker ? page.Marker : undefined;
  } while (Marker);
  count("iam:ListAccountAliases");
  await client.send(new ListAccountAliasesCommand({ MaxItems: 1000 }));
  for (const u of details.flatMap((p) => p.UserDetailList ?? [])) {
    count("iam:ListAccessKeys");
    const keys = await client.send(new ListAccessKeysCommand({ UserName: u.UserName!, MaxItems: 1000 }));
    for (const k of keys.AccessKeyMetadata ?? []) {
      count("iam:GetAccessKeyLastUsed");
      await client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: k.AccessKeyId! }));
    }
  }
}

/** The OU tree under `parentId`, depth first. */
async function walkOus(w: Walk, parentId: string): Promise<void> {
  const found = await pages((NextToken) => {
    w.count("organizations:ListOrganizationalUnitsForParent");
    return w.orgs.send(
      new ListOrganizationalUnitsForParentCommand({ ParentId: parentId, MaxResults: 20, NextToken }),
    );
  });
  for (const ou of found.flatMap((p) => p.OrganizationalUnits ?? [])) {
    w.resource("organizational_unit", ou.Id!, ou.Name ?? ou.Id!, [
      parentId.startsWith("r-") ? "root" : "organizational_unit",
      parentId,
    ]);
    await walkOus(w, ou.Id!);
  }
}

const TARGET_TYPES = {
  ROOT: "root",
  ORGANIZATIONAL_UNIT: "organizational_unit",
  ACCOUNT: "account",
} as const;

/** SCPs / RCPs of one enabled type: ListPolicies → DescribePolicy and ListTargetsForPolicy per policy. */
async function walkOrgPolicies(w: Walk, Filter: PolicyType): Promise<void> {
  const { orgs, count } = w;
  const listed = await pages((NextToken) => {
    count("organizations:ListPolicies");
    return orgs.send(new ListPoliciesCommand({ Filter, MaxResults: 20, NextToken }));
  });
  for (const pol of listed.flatMap((p) => p.Policies ?? [])) {
    count("organizations:DescribePolicy");
    await orgs.send(new DescribePolicyCommand({ PolicyId: pol.Id! }));
    w.resource("org_policy", pol.Id!, pol.Name ?? pol.Id!, null);
    const ent = orgPolicyAttachedEntitlementId(pol.Id!);
    w.rows.entitlements.push({ id: ent });
    const targets = await pages((NextToken) => {
      count("organizations:ListTargetsForPolicy");
      return orgs.send(new ListTargetsForPolicyCommand({ PolicyId: pol.Id!, MaxResults: 20, NextToken }));
    });
    for (const t of targets.flatMap((p) => p.Targets ?? [])) {
      const type = TARGET_TYPES[t.Type as keyof typeof TARGET_TYPES];
      if (type) w.rows.grants.push({ id: grantId(ent, type, t.TargetId!) });
    }
  }
}

/** Organizations: DescribeOrganization, ListRoots → OU recursion and enabled policy types, ListAccounts → ListParents per account. */
async function walkOrganizations(w: Walk): Promise<string[]> {
  const { orgs, count, resource } = w;
  count("organizations:DescribeOrganization");
  const org = (await orgs.send(new DescribeOrganizationCommand({}))).Organization;
  if (org?.Id) resource("organization", org.Id, org.Id, null);
  const roots = await pages((NextToken) => {
    count("organizations:ListRoots");
    return orgs.send(new ListRootsCommand({ MaxResults: 20, NextToken }));
  });
  for (const r of roots.flatMap((p) => p.Roots ?? [])) {
    const orgId = /:root\/(o-[a-z0-9]+)\//.exec(r.Arn ?? "")?.[1] ?? null;
    resource("root", r.Id!, r.Name ?? r.Id!, orgId ? ["organization", orgId] : null);
    await walkOus(w, r.Id!);
    for (const t of r.PolicyTypes ?? [])
      if (
        t.Status === "ENABLED" &&
        (t.Type === "SERVICE_CONTROL_POLICY" || t.Type === "RESOURCE_CONTROL_POLICY")
      )
        await walkOrgPolicies(w, t.Type);
  }
  const accounts = await pages((NextToken) => {
    count("organizations:ListAccounts");
    return orgs.send(new ListAccountsCommand({ MaxResults: 20, NextToken }));
  });
  const activeMembers: string[] = [];
  for (const a of accounts.flatMap((p) => p.Accounts ?? [])) {
    if (a.Status === "ACTIVE") activeMembers.push(a.Id!);
    count("organizations:ListParents");
    const parents = await orgs.send(new ListParentsCommand({ ChildId: a.Id!, MaxResults: 20 }));
    const parentId = parents.Parents?.[0]?.Id ?? null;
    resource(
      "account",
      a.Id!,
      a.Name ?? a.Id!,
      parentId === null ? null : [parentId.startsWith("r-") ? "root" : "organizational_unit", parentId],
    );
  }
  return activeMembers;
}

/** One permission set: describe + policies, then its provisioned accounts' assignments as grants. */
async function walkPermissionSet(
  w: Walk,
  base: { InstanceArn: string; PermissionSetArn: string },
): Promise<void> {
  const { sso, count } = w;
  const { InstanceArn, PermissionSetArn } = base;
  count("sso:DescribePermissionSet");
  const ps = (await sso.send(new DescribePermissionSetCommand(base))).PermissionSet;
  await pages((NextToken) => {
    count("sso:ListManagedPoliciesInPermissionSet");
    return sso.send(new ListManagedPoliciesInPermissionSetCommand({ ...base, MaxResults: 100, NextToken }));
  });
  await pages((NextToken) => {
    count("sso:ListCustomerManagedPolicyReferencesInPermissionSet");
    return sso.send(
      new ListCustomerManagedPolicyReferencesInPermissionSetCommand({ ...base, MaxResults: 100, NextToken }),
    );
  });
  count("sso:GetInlinePolicyForPermissionSet");
  await sso.send(new GetInlinePolicyForPermissionSetCommand(base));
  count("sso:GetPermissionsBoundaryForPermissionSet");
  // No boundary is AWS's ResourceNotFoundException, as grantline's composite describe reads it.
  await sso.send(new GetPermissionsBoundaryForPermissionSetCommand(base)).catch((err: unknown) => {
    if ((err as { name?: string }).name !== "ResourceNotFoundException") throw err;
  });
  w.resource("permission_set", PermissionSetArn, ps?.Name ?? PermissionSetArn, ["sso_instance", InstanceArn]);

  const provisioned = await pages((NextToken) => {
    count("sso:ListAccountsForProvisionedPermissionSet");
    return sso.send(
      new ListAccountsForProvisionedPermissionSetCommand({ ...base, MaxResults: 100, NextToken }),
    );
  });
  for (const AccountId of provisioned.flatMap((p) => p.AccountIds ?? [])) {
    const ent = accountPermissionSetEntitlementId(AccountId, PermissionSetArn);
    const assigned = await pages((NextToken) => {
      count("sso:ListAccountAssignments");
      return sso.send(new ListAccountAssignmentsCommand({ ...base, AccountId, MaxResults: 100, NextToken }));
    });
    for (const a of assigned.flatMap((p) => p.AccountAssignments ?? [])) {
      const type = a.PrincipalType === "GROUP" ? "sso_group" : "sso_user";
      w.rows.grants.push({ id: grantId(ent, type, a.PrincipalId!) });
    }
  }
}

/** Identity Store: users, groups (+ member entitlement), memberships per group. */
async function walkIdentityStore(w: Walk, IdentityStoreId: string): Promise<void> {
  const { ids, count, resource } = w;
  const users = await pages((NextToken) => {
    count("identitystore:ListUsers");
    return ids.send(new ListUsersCommand({ IdentityStoreId, MaxResults: 100, NextToken }));
  });
  for (const u of users.flatMap((p) => p.Users ?? [])) resource("sso_user", u.UserId!, u.UserName!, null);
  const groups = await pages((NextToken) => {
    count("identitystore:ListGroups");
    return ids.send(new ListGroupsCommand({ IdentityStoreId, MaxResults: 100, NextToken }));
  });
  for (const g of groups.flatMap((p) => p.Groups ?? [])) {
    const GroupId = g.GroupId!;
    resource("sso_group", GroupId, g.DisplayName ?? GroupId, null);
    const ent = groupMemberEntitlementId(GroupId);
    w.rows.entitlements.push({ id: ent });
    const members = await pages((NextToken) => {
      count("identitystore:ListGroupMemberships");
      return ids.send(
        new ListGroupMembershipsCommand({ IdentityStoreId, GroupId, MaxResults: 100, NextToken }),
      );
    });
    for (const m of members.flatMap((p) => p.GroupMemberships ?? [])) {
      const member = m.MemberId;
      if (member && "UserId" in member && member.UserId)
        w.rows.grants.push({ id: grantId(ent, "sso_user", member.UserId) });
    }
  }
}

/** Identity Center: instances → permission sets, then each instance's identity store. */
async function walkIdentityCenter(w: Walk): Promise<void> {
  const instances = await pages((NextToken) => {
    w.count("sso:ListInstances");
    return w.sso.send(new ListInstancesCommand({ MaxResults: 100, NextToken }));
  });
  for (const inst of instances.flatMap((p) => p.Instances ?? [])) {
    const InstanceArn = inst.InstanceArn!;
    w.resource("sso_instance", InstanceArn, inst.Name ?? InstanceArn, null);
    const sets = await pages((NextToken) => {
      w.count("sso:ListPermissionSets");
      return w.sso.send(new ListPermissionSetsCommand({ InstanceArn, MaxResults: 100, NextToken }));
    });
    for (const PermissionSetArn of sets.flatMap((p) => p.PermissionSets ?? []))
      await walkPermissionSet(w, { InstanceArn, PermissionSetArn });
    await walkIdentityStore(w, inst.IdentityStoreId!);
  }
}

/** The caller's account's IAM, then (with `iamRoleName`) every other active member's through AssumeRole. */
async function walkIamAccounts(
  w: Walk,
  activeMembers: string[],
  roleName: string | undefined,
): Promise<void> {
  w.count("sts:GetCallerIdentity");
  const me = await w.sts.send(new GetCallerIdentityCommand({}));
  await walkIam(w, w.iam);
  if (!roleName) return;
  for (const account of activeMembers.filter((a) => a !== me.Account)) {
    w.count("sts:AssumeRole");
    const { Credentials: c } = await w.sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${account}:role/${roleName}`,
        RoleSessionName: "grantline-reference",
      }),
    );
    const member = new IAMClient({
      ...w.common,
      credentials: {
        accessKeyId: c!.AccessKeyId!,
        secretAccessKey: c!.SecretAccessKey!,
        sessionToken: c!.SessionToken!,
      },
    });
    try {
      await walkIam(w, member);
    } finally {
      member.destroy();
    }
  }
}

export async function referenceSync(o: ReferenceOptions): Promise<ReferenceResult> {
  const w = startWalk(o);
  const { rows } = w;
  const started = performance.now();
  try {
    const activeMembers = await walkOrganizations(w);
    await walkIdentityCenter(w);
    if (o.iam) await walkIamAccounts(w, activeMembers, o.iamRoleName);
    // As the writer does when a run succeeds: "may use permission set P on account A" for every account × set.
    const accountIds = rows.resources.filter((r) => r.type === "account").map((r) => r.id);
    for (const ps of rows.resources.filter((r) => r.type === "permission_set"))
      for (const a of accountIds) rows.entitlements.push({ id: accountPermissionSetEntitlementId(a, ps.id) });
    return { rows, wallMs: performance.now() - started, calls: w.calls };
  } finally {
    w.iam.destroy();
    w.sts.destroy();
    w.orgs.destroy();
    w.sso.destroy();
    w.ids.destroy();
  }
}
