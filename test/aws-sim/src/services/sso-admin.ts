import { AwsError } from "../aws-error.ts";
import { epoch } from "../protocols/json.ts";
import type { PermissionSetBoundary } from "../org-document.ts";
import type { AssignmentOp } from "../store.ts";
import type { Ctx } from "./context.ts";
import { asError, JsonArgs } from "./json-input.ts";
import type { JsonHandler, JsonInput } from "./json-input.ts";

const validation = asError("ValidationException");
function args(ctx: Ctx, input: JsonInput): JsonArgs {
  if (ctx.actor.accountId !== ctx.store.org.managementAccountId)
    throw new AwsError("AccessDeniedException", "User is not authorized to perform this action.", 403);
  ctx.store.ssoAdmin.settle();
  return new JsonArgs(input, validation);
}
/** Args + validated InstanceArn. */
function inst(ctx: Ctx, input: JsonInput): JsonArgs {
  const a = args(ctx, input);
  const arn = a.req("InstanceArn");
  if (
    !/^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/.test(arn)
  )
    throw validation(
      `1 validation error detected: Value '${arn}' at 'instanceArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}`,
    );
  ctx.store.ssoAdmin.requireInstance(arn);
  return a;
}
function accountId(a: JsonArgs, name: string): string {
  const v = a.req(name);
  if (!/^\d{12}$/.test(v))
    throw validation(
      `1 validation error detected: Value '${v}' at '${name[0]!.toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must satisfy regular expression pattern: \\d{12}`,
    );
  return v;
}
const PS_ARN =
  /^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::permissionSet\/(sso)?ins-[a-zA-Z0-9-.]{16}\/ps-[a-zA-Z0-9-./]{16}$/;
/** A malformed permission set ARN is a ValidationException; a well-formed unknown one stays not-found. */
function permissionSetArn(a: JsonArgs): string {
  const v = a.req("PermissionSetArn");
  if (!PS_ARN.test(v))
    throw validation(
      `1 validation error detected: Value '${v}' at 'permissionSetArn' failed to satisfy constraint: Member must satisfy regular expression pattern: ${PS_ARN.source.slice(1, -1).replace(/\\\//g, "/")}`,
    );
  return v;
}
function boundaryInput(v: unknown): PermissionSetBoundary {
  const b = (v ?? {}) as {
    ManagedPolicyArn?: unknown;
    CustomerManagedPolicyReference?: { Name?: unknown; Path?: unknown };
  };
  const cmp = b.CustomerManagedPolicyReference;
  if (typeof b.ManagedPolicyArn === "string" && cmp === undefined) {
    if (!/^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):iam::aws:policy\/.+$/.test(b.ManagedPolicyArn))
      throw validation(
        `1 validation error detected: Value '${b.ManagedPolicyArn}' at 'permissionsBoundary.managedPolicyArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):iam::aws:policy/[\\p{L}\\p{M}\\p{Z}\\p{S}\\p{N}\\p{P}]+`,
      );
    return { managedPolicyArn: b.ManagedPolicyArn };
  }
  if (cmp !== undefined && b.ManagedPolicyArn === undefined && typeof cmp.Name === "string") {
    const path = typeof cmp.Path === "string" ? cmp.Path : "/";
    if (!/^[\w+=,.@-]{1,128}$/.test(cmp.Name) || !/^((\/[A-Za-z0-9.,+@=_-]+)*)\/$/.test(path))
      throw validation(
        "1 validation error detected: Value at 'permissionsBoundary.customerManagedPolicyReference' failed to satisfy constraint: Member must satisfy regular expression pattern",
      );
    return { customerManagedPolicyReference: { name: cmp.Name, path } };
  }
  throw validation(
    "Exactly one of ManagedPolicyArn or CustomerManagedPolicyReference is required in PermissionsBoundary.",
  );
}
function opStatus(op: AssignmentOp): Record<string, unknown> {
  const a = op.assignment;
  return {
    Status: op.status,
    RequestId: op.requestId,
    FailureReason: op.failureReason,
    TargetId: a.accountId,
    TargetType: "AWS_ACCOUNT",
    PermissionSetArn: a.permissionSetArn,
    PrincipalType: a.principalType,
    PrincipalId: a.principalId,
    CreatedDate: epoch(op.createdDate),
  };
}
function assignmentInput(a: JsonArgs): {
  accountId: string;
  permissionSetArn: string;
  principalType: "USER" | "GROUP";
  principalId: string;
} {
  const targetType = a.req("TargetType");
  if (targetType !== "AWS_ACCOUNT")
    throw validation(
      `1 validation error detected: Value '${targetType}' at 'targetType' failed to satisfy constraint: Member must satisfy enum value set: [AWS_ACCOUNT]`,
    );
  const principalType = a.req("PrincipalType");
  if (principalType !== "USER" && principalType !== "GROUP")
    throw validation(
      `1 validation error detected: Value '${principalType}' at 'principalType' failed to satisfy constraint: Member must satisfy enum value set: [USER, GROUP]`,
    );
  return {
    accountId: accountId(a, "TargetId"),
    permissionSetArn: permissionSetArn(a),
    principalType,
    principalId: a.req("PrincipalId"),
  };
}
function describeOp(kind: "create" | "delete", idField: string, outField: string): JsonHandler<Ctx> {
  return (ctx, input) => {
    const id = inst(ctx, input).req(idField);
    const op = ctx.store.ssoAdmin.ops.get(id);
    if (!op || op.kind !== kind)
      throw new AwsError("ResourceNotFoundException", `Request ${id} does not exist.`, 404);
    return { [outField]: opStatus(op) };
  };
}
function provisioningFilter(a: JsonArgs): void {
  const ps = a.str("ProvisioningStatus");
  if (
    ps !== undefined &&
    ps !== "LATEST_PERMISSION_SET_PROVISIONED" &&
    ps !== "LATEST_PERMISSION_SET_NOT_PROVISIONED"
  )
    throw validation(
      `1 validation error detected: Value '${ps}' at 'provisioningStatus' failed to satisfy constraint: Member must satisfy enum value set: [LATEST_PERMISSION_SET_PROVISIONED, LATEST_PERMISSION_SET_NOT_PROVISIONED]`,
    );
}

export const SSO_ADMIN_OPERATIONS: Record<string, JsonHandler<Ctx>> = {
  ListInstances: (ctx, input) => {
    const a = args(ctx, input);
    const ic = ctx.store.ic;
    const r = a.page(ic ? [ic] : [], 100, "instances");
    return {
      Instances: r.items.map((i) => ({
        InstanceArn: i.instanceArn,
        IdentityStoreId: i.identityStoreId,
        OwnerAccountId: ctx.store.org.managementAccountId,
        Name: i.name,
        CreatedDate: epoch(i.createdDate),
        Status: "ACTIVE",
      })),
      NextToken: r.NextToken,
    };
  },
  ListPermissionSets: (ctx, input) => {
    const r = inst(ctx, input).page([...ctx.store.permissionSets.keys()], 100, "ps");
    return { PermissionSets: r.items, NextToken: r.NextToken };
  },
  DescribePermissionSet: (ctx, input) => {
    const ps = ctx.store.ssoAdmin.requirePermissionSet(permissionSetArn(inst(ctx, input)));
    return {
      PermissionSet: {
        Name: ps.name,
        PermissionSetArn: ps.arn,
        Description: ps.description,
        CreatedDate: epoch(ps.createdDate),
        SessionDuration: ps.sessionDuration,
      },
    };
  },
  ListPermissionSetsProvisionedToAccount: (ctx, input) => {
    const a = inst(ctx, input);
    const acct = accountId(a, "AccountId");
    provisioningFilter(a);
    const r = a.page(
      [...(ctx.store.provisionedByAccount.get(acct) ?? [])],
      100,
      `psacct:${acct}:${a.str("ProvisioningStatus") ?? ""}`,
    );
    return {
      PermissionSets: a.str("ProvisioningStatus") === "LATEST_PERMISSION_SET_NOT_PROVISIONED" ? [] : r.items,
      NextToken: r.NextToken,
    };
  },
  ListAccountsForProvisionedPermissionSet: (ctx, input) => {
    const a = inst(ctx, input);
    const ps = ctx.store.ssoAdmin.requirePermissionSet(permissionSetArn(a));
    provisioningFilter(a);
    const all =
      a.str("ProvisioningStatus") === "LATEST_PERMISSION_SET_NOT_PROVISIONED"
        ? []
        : [...(ctx.store.provisioned.get(ps.arn) ?? [])];
    const r = a.page(all, 100, `acctps:${ps.arn}:${a.str("ProvisioningStatus") ?? ""}`);
    return { AccountIds: r.items, NextToken: r.NextToken };
  },
  ListAccountAssignments: (ctx, input) => {
    const a = inst(ctx, input);
    const acct = accountId(a, "AccountId");
    const ps = ctx.store.ssoAdmin.requirePermissionSet(permissionSetArn(a));
    const all = [...(ctx.store.assignmentsByPair.get(`${acct}|${ps.arn}`)?.values() ?? [])];
    const r = a.page(all, 100, `aa:${acct}:${ps.arn}`);
    return {
      AccountAssignments: r.items.map((x) => ({
        AccountId: x.accountId,
        PermissionSetArn: x.permissionSetArn,
        PrincipalType: x.principalType,
        PrincipalId: x.principalId,
      })),
      NextToken: r.NextToken,
    };
  },
  ListAccountAssignmentsForPrincipal: (ctx, input) => {
    const a = inst(ctx, input);
    const pid = a.req("PrincipalId");
    const ptype = a.req("PrincipalType");
    if (ptype !== "USER" && ptype !== "GROUP")
      throw validation(
        `1 validation error detected: Value '${ptype}' at 'principalType' failed to satisfy constraint: Member must satisfy enum value set: [USER, GROUP]`,
      );
    const filter = (input.Filter as { AccountId?: string } | undefined)?.AccountId;
    const all = [...(ctx.store.assignmentsByPrincipal.get(pid)?.values() ?? [])].filter(
      (x) => x.principalType === ptype && (!filter || x.accountId === filter),
    );
    const r = a.page(all, 100, `aafp:${pid}:${ptype}:${filter ?? ""}`);
    return {
      AccountAssignments: r.items.map((x) => ({
        AccountId: x.accountId,
        PermissionSetArn: x.permissionSetArn,
        PrincipalId: x.principalId,
        PrincipalType: x.principalType,
      })),
      NextToken: r.NextToken,
    };
  },
  ListManagedPoliciesInPermissionSet: (ctx, input) => {
    const a = inst(ctx, input);
    const ps = ctx.store.ssoAdmin.requirePermissionSet(permissionSetArn(a));
    const r = a.page(ps.managedPolicies, 100, `mp:${ps.arn}`);
    return {
      AttachedManagedPolicies: r.items.map((arn) => ({ Name: arn.split("/").pop(), Arn: arn })),
      NextToken: r.NextToken,
    };
  },
  ListCustomerManagedPolicyReferencesInPermissionSet: (ctx, input) => {
    const a = inst(ctx, input);
    const ps = ctx.store.ssoAdmin.requirePermissionSet(permissionSetArn(a));
    const r = a.page(ps.customerManagedPolicyReferences, 100, `cmp:${ps.arn}`);
    return {
      CustomerManagedPolicyReferences: r.items.map((x) => ({ Name: x.name, Path: x.path })),
      NextToken: r.NextToken,
    };
  },
  GetInlinePolicyForPermissionSet: (ctx, input) => {
    const ps = ctx.store.ssoAdmin.requirePermissionSet(permissionSetArn(inst(ctx, input)));
    return { InlinePolicy: ps.inlinePolicy ?? "" };
  },
  GetPermissionsBoundaryForPermissionSet: (ctx, input) => {
    const ps = ctx.store.ssoAdmin.requirePermissionSet(permissionSetArn(inst(ctx, input)));
    const b = ps.permissionsBoundary;
    if (!b)
      throw new AwsError(
        "ResourceNotFoundException",
        "Permissions boundary not found for the permission set.",
        404,
      );
    return {
      PermissionsBoundary:
        "managedPolicyArn" in b
          ? { ManagedPolicyArn: b.managedPolicyArn }
          : {
              CustomerManagedPolicyReference: {
                Name: b.customerManagedPolicyReference.name,
                Path: b.customerManagedPolicyReference.path,
              },
            },
    };
  },
  PutPermissionsBoundaryToPermissionSet: (ctx, input) => {
    const arn = permissionSetArn(inst(ctx, input));
    ctx.store.ssoAdmin.setPermissionsBoundary(ctx.actor, arn, boundaryInput(input.PermissionsBoundary));
    return {};
  },
  DeletePermissionsBoundaryFromPermissionSet: (ctx, input) => {
    const arn = permissionSetArn(inst(ctx, input));
    ctx.store.ssoAdmin.setPermissionsBoundary(ctx.actor, arn, undefined);
    return {};
  },
  CreateAccountAssignment: (ctx, input) => {
    const a = inst(ctx, input);
    const op = ctx.store.ssoAdmin.startAssignmentOp(ctx.actor, "create", assignmentInput(a));
    return {
      AccountAssignmentCreationStatus: { ...opStatus(op), Status: "IN_PROGRESS", FailureReason: undefined },
    };
  },
  DeleteAccountAssignment: (ctx, input) => {
    const a = inst(ctx, input);
    const op = ctx.store.ssoAdmin.startAssignmentOp(ctx.actor, "delete", assignmentInput(a));
    return {
      AccountAssignmentDeletionStatus: { ...opStatus(op), Status: "IN_PROGRESS", FailureReason: undefined },
    };
  },
  DescribeAccountAssignmentCreationStatus: describeOp(
    "create",
    "AccountAssignmentCreationRequestId",
    "AccountAssignmentCreationStatus",
  ),
  DescribeAccountAssignmentDeletionStatus: describeOp(
    "delete",
    "AccountAssignmentDeletionRequestId",
    "AccountAssignmentDeletionStatus",
  ),
};
