import type { Actor } from "../actor.ts";
import { AwsError } from "../aws-error.ts";
import { lower, uuid } from "../ids.ts";
import type { AssignmentDoc, PermissionSetBoundary, PermissionSetDoc } from "../org-document.ts";
import {
  newReservedRole,
  newSamlProvider,
  reservedRoleMatcher,
  reservedRolePolicies,
  ssoProviderOf,
} from "./reserved-sso-roles.ts";
import { aKey, now, type IdentityCenter, type StoreState } from "./store-state.ts";
import { trailDelaySampler } from "../trail-delay.ts";
import type { TrailDelay } from "../trail-delay.ts";
import { emptyProvisioning } from "./provisioning-counters.ts";
import type { InstanceProvisioning, ProvisioningCounters } from "./provisioning-counters.ts";

export interface AssignmentOp {
  kind: "create" | "delete";
  requestId: string;
  createdDate: number;
  completeAt: number;
  status: "IN_PROGRESS" | "SUCCEEDED" | "FAILED";
  failureReason?: string;
  assignment: AssignmentDoc;
}
/** Identity Center's permission sets, their provisioning and account assignments (created and deleted asynchronously). */
export class SsoAdminStore {
  readonly ops = new Map<string, AssignmentOp>();
  private readonly pending = new Map<string, AssignmentOp>();
  private delayMs: () => number = () => 0;
  /** Outstanding operations per instance beyond which Create/Delete are refused (AWS: 15). */
  outstandingCap = 15;
  private readonly stats = new Map<string, InstanceProvisioning>();

  constructor(private readonly s: StoreState) {}

  requireInstance(instanceArn: string): IdentityCenter {
    if (!this.s.ic || this.s.ic.instanceArn !== instanceArn)
      throw new AwsError("ResourceNotFoundException", `Instance ${instanceArn} does not exist.`, 404);
    return this.s.ic;
  }
  requirePermissionSet(arn: string): PermissionSetDoc {
    const ps = this.s.permissionSets.get(arn);
    if (!ps)
      throw new AwsError(
        "ResourceNotFoundException",
        `Could not find PermissionSet with id ${arn.split("/").pop()}`,
        404,
      );
    return ps;
  }

  createPermissionSet(
    actor: Actor | null,
    p: {
      name: string;
      description?: string;
      sessionDuration?: string;
      managedPolicies?: string[];
      inlinePolicy?: string;
      customerManagedPolicyReferences?: Array<{ name: string; path?: string }>;
    },
  ): PermissionSetDoc {
    const ic = this.s.icOrThrow();
    for (const ps of this.s.permissionSets.values())
      if (ps.name === p.name)
        throw new AwsError("ConflictException", `PermissionSet with name ${p.name} already exists.`, 409);
    const ps: PermissionSetDoc = {
      arn: `${ic.instanceArn.replace(":instance/", ":permissionSet/")}/ps-${lower(this.s.rng, 16).replace(/[g-z]/g, "a")}`,
      name: p.name,
      description: p.description,
      sessionDuration: p.sessionDuration ?? "PT1H",
      createdDate: now(),
      managedPolicies: p.managedPolicies ?? [],
      customerManagedPolicyReferences: (p.customerManagedPolicyReferences ?? []).map((r) => ({
        name: r.name,
        path: r.path ?? "/",
      })),
      inlinePolicy: p.inlinePolicy,
      provisionedTo: [],
    };
    this.s.permissionSets.set(ps.arn, ps);
    const res = [{ ResourceType: "AWS::SSO::PermissionSet", ResourceName: ps.arn }];
    const rec = (name: string, params: Record<string, unknown>, response?: Record<string, unknown>): void =>
      this.s.record(
        actor,
        this.s.mgmt(),
        "sso.amazonaws.com",
        name,
        { instanceArn: ic.instanceArn, ...params },
        res,
        response,
      );
    rec(
      "CreatePermissionSet",
      {
        name: ps.name,
        sessionDuration: ps.sessionDuration,
        ...(ps.description !== undefined ? { description: ps.description } : {}),
      },
      {
        permissionSet: {
          name: ps.name,
          permissionSetArn: ps.arn,
          sessionDuration: ps.sessionDuration,
          createdDate: ps.createdDate,
        },
      },
    );
    // Creating a set with policies is, in AWS, one call per policy after the create: each is recorded.
    for (const managedPolicyArn of ps.managedPolicies)
      rec("AttachManagedPolicyToPermissionSet", { permissionSetArn: ps.arn, managedPolicyArn });
    for (const r of ps.customerManagedPolicyReferences)
      rec("AttachCustomerManagedPolicyReferenceToPermissionSet", {
        permissionSetArn: ps.arn,
        customerManagedPolicyReference: r,
      });
    if (ps.inlinePolicy !== undefined)
      rec("PutInlinePolicyToPermissionSet", { permissionSetArn: ps.arn, inlinePolicy: ps.inlinePolicy });
    return ps;
  }
  deletePermissionSet(actor: Actor | null, arn: string): void {
    const ic = this.s.icOrThrow();
    const ps = this.requirePermissionSet(arn);
    for (const acct of this.s.provisioned.get(arn) ?? []) this.removeReservedRole(ps, acct);
    this.s.permissionSets.delete(arn);
    for (const acct of this.s.provisioned.get(arn) ?? []) this.s.provisionedByAccount.get(acct)?.delete(arn);
    this.s.provisioned.delete(arn);
    for (const a of [...this.s.assignments.values()])
      if (a.permissionSetArn === arn) this.s.unindexAssignment(a);
    this.s.record(
      actor,
      this.s.mgmt(),
      "sso.amazonaws.com",
      "DeletePermissionSet",
      { instanceArn: ic.instanceArn, permissionSetArn: arn },
      [{ ResourceType: "AWS::SSO::PermissionSet", ResourceName: arn }],
    );
  }
  provisionPermissionSet(actor: Actor | null, arn: string, accountId: string): void {
    const ic = this.s.icOrThrow();
    const ps = this.requirePermissionSet(arn);
    this.s.account(accountId);
    this.s.markProvisioned(arn, accountId);
    this.provisionReservedRole(ps, accountId, true);
    this.s.record(
      actor,
      this.s.mgmt(),
      "sso.amazonaws.com",
      "ProvisionPermissionSet",
      { instanceArn: ic.instanceArn, permissionSetArn: arn, targetId: accountId, targetType: "AWS_ACCOUNT" },
      [{ ResourceType: "AWS::SSO::PermissionSet", ResourceName: arn }],
    );
  }
  /** Put (boundary) or delete (undefined) a permission set's boundary; accounts see it at the next provisioning. */
  setPermissionsBoundary(
    actor: Actor | null,
    arn: string,
    boundary: PermissionSetBoundary | undefined,
  ): void {
    const ic = this.s.icOrThrow();
    const ps = this.requirePermissionSet(arn);
    if (boundary === undefined && ps.permissionsBoundary === undefined)
      throw new AwsError(
        "ResourceNotFoundException",
        "Permissions boundary not found for the permission set.",
        404,
      );
    ps.permissionsBoundary = boundary;
    this.s.record(
      actor,
      this.s.mgmt(),
      "sso.amazonaws.com",
      boundary ? "PutPermissionsBoundaryToPermissionSet" : "DeletePermissionsBoundaryFromPermissionSet",
      {
        instanceArn: ic.instanceArn,
        permissionSetArn: arn,
        ...(boundary ? { permissionsBoundary: boundary } : {}),
      },
      [{ ResourceType: "AWS::SSO::PermissionSet", ResourceName: arn }],
    );
  }
  /** How long each new operation stays IN_PROGRESS: drawn from `d` with a PRNG seeded by `seed`. */
  setDelay(d: TrailDelay, seed: number): void {
    this.delayMs = trailDelaySampler(d, seed);
  }
  private statsOf(instanceArn: string): InstanceProvisioning {
    let st = this.stats.get(instanceArn);
    if (!st) this.stats.set(instanceArn, (st = emptyProvisioning()));
    return st;
  }
  provisioningCounters(): ProvisioningCounters {
    this.settle();
    const out: ProvisioningCounters = {};
    const ic = this.s.ic;
    if (ic) out[ic.instanceArn] = { ...this.statsOf(ic.instanceArn), outstanding: this.pending.size };
    return out;
  }
  /** Zeroes the counters; the peak restarts from what is outstanding now. */
  resetProvisioningCounters(): void {
    this.settle();
    this.stats.clear();
    if (this.s.ic) this.statsOf(this.s.ic.instanceArn).peakOutstanding = this.pending.size;
  }
  /**
   * Starts an asynchronous assignment create/delete; completes after a delay drawn from the configured
   * distribution (see settle()). `immediate` (the admin mutations) completes at once and is never refused.
   */
  startAssignmentOp(
    actor: Actor | null,
    kind: "create" | "delete",
    a: AssignmentDoc,
    immediate = false,
  ): AssignmentOp {
    const ic = this.s.icOrThrow();
    this.requirePermissionSet(a.permissionSetArn);
    const st = this.statsOf(ic.instanceArn);
    const t = Date.now();
    // AWS's ConflictException: "the previous write did not have time to propagate … A retry (with appropriate
    // backoff logic) is the recommended response" (sso-admin model).
    if (this.pending.has(aKey(a))) {
      st.conflicts++;
      throw new AwsError(
        "ConflictException",
        "An account assignment operation is already in progress for this principal, permission set and account.",
        409,
      );
    }
    // "The write API operations have a limit of 15 outstanding asynchronous calls. This limit cannot be
    // increased." is listed under Identity Center's *throttle* limits (IAM User Guide, aam-quotas.html), and
    // ThrottlingException is the only limit error both Create- and DeleteAccountAssignment model
    // (ServiceQuotaExceededException is Create's alone, for resource counts): so beyond the cap, a 429
    // ThrottlingException. AWS does not publish the message; this one is the simulator's.
    if (!immediate && this.pending.size >= this.outstandingCap) {
      st.refusedOverCap++;
      throw new AwsError(
        "ThrottlingException",
        `Too many outstanding account assignment operations for instance ${ic.instanceArn} (limit ${this.outstandingCap}).`,
        429,
      );
    }
    const delay = immediate ? 0 : this.delayMs();
    const op: AssignmentOp = {
      kind,
      requestId: uuid(this.s.rng),
      createdDate: t,
      completeAt: t + delay,
      status: "IN_PROGRESS",
      assignment: a,
    };
    this.ops.set(op.requestId, op);
    this.pending.set(aKey(a), op);
    st.started++;
    st.peakOutstanding = Math.max(st.peakOutstanding, this.pending.size);
    this.s.record(
      actor,
      this.s.mgmt(),
      "sso.amazonaws.com",
      kind === "create" ? "CreateAccountAssignment" : "DeleteAccountAssignment",
      {
        instanceArn: ic.instanceArn,
        targetId: a.accountId,
        targetType: "AWS_ACCOUNT",
        permissionSetArn: a.permissionSetArn,
        principalType: a.principalType,
        principalId: a.principalId,
      },
      [
        { ResourceType: "AWS::SSO::PermissionSet", ResourceName: a.permissionSetArn },
        { ResourceType: "AWS::Account", ResourceName: a.accountId },
      ],
      {
        [kind === "create" ? "accountAssignmentCreationStatus" : "accountAssignmentDeletionStatus"]: {
          status: "IN_PROGRESS",
          requestId: op.requestId,
          targetId: a.accountId,
          targetType: "AWS_ACCOUNT",
          permissionSetArn: a.permissionSetArn,
          principalType: a.principalType,
          principalId: a.principalId,
          createdDate: new Date(t).toISOString(),
        },
      },
    );
    if (delay <= 0) this.complete(op);
    return op;
  }
  /** Completes due asynchronous operations. */
  settle(t = Date.now()): void {
    for (const op of [...this.pending.values()]) if (op.completeAt <= t) this.complete(op);
  }
  private complete(op: AssignmentOp): void {
    this.pending.delete(aKey(op.assignment));
    this.apply(op);
    const ic = this.s.ic;
    if (ic) this.statsOf(ic.instanceArn)[op.status === "SUCCEEDED" ? "succeeded" : "failed"]++;
  }
  private apply(op: AssignmentOp): void {
    const a = op.assignment;
    const acct = this.s.accounts.get(a.accountId);
    const principalOk =
      a.principalType === "USER" ? this.s.users.has(a.principalId) : this.s.groups.has(a.principalId);
    if (!acct) {
      op.status = "FAILED";
      op.failureReason = `Account ${a.accountId} is not part of the organization.`;
      return;
    }
    if (!this.s.permissionSets.has(a.permissionSetArn)) {
      op.status = "FAILED";
      op.failureReason = "Permission set does not exist.";
      return;
    }
    if (op.kind === "create") {
      if (!principalOk) {
        op.status = "FAILED";
        op.failureReason = `Received a 404 status error: No ${a.principalType === "USER" ? "user" : "group"} with id ${a.principalId} exists.`;
        return;
      }
      if (!this.s.assignments.has(aKey(a))) this.s.indexAssignment({ ...a });
      this.s.markProvisioned(a.permissionSetArn, a.accountId);
      this.provisionReservedRole(this.requirePermissionSet(a.permissionSetArn), a.accountId, false);
    } else {
      const existing = this.s.assignments.get(aKey(a));
      if (existing) this.s.unindexAssignment(existing);
      // The last assignment of a set in an account takes its role with it; a later one gets a new role.
      if (!this.s.assignmentsByPair.get(`${a.accountId}|${a.permissionSetArn}`)?.size)
        this.removeReservedRole(this.requirePermissionSet(a.permissionSetArn), a.accountId);
    }
    op.status = "SUCCEEDED";
  }

  /** Creates the set's reserved role in the account (and the account's SSO SAML provider); `refresh` re-applies the set. */
  provisionReservedRole(ps: PermissionSetDoc, accountId: string, refresh: boolean): void {
    const acct = this.s.account(accountId);
    const hasPolicy = (arn: string): boolean => arn.startsWith("arn:aws:iam::aws:") || acct.policies.has(arn);
    const match = reservedRoleMatcher(ps.name);
    const existing = [...acct.roles.values()].find((r) => match.test(r.name));
    if (existing) {
      if (refresh) {
        Object.assign(existing, reservedRolePolicies(ps, accountId, hasPolicy));
        // Identity Center re-applies the set through IAM in the member account (invokedBy sso.amazonaws.com).
        this.recordIam(accountId, "PutRolePolicy", {
          roleName: existing.name,
          policyName: "AwsSSOInlinePolicy",
        });
      }
      return;
    }
    const t = now();
    let provider = ssoProviderOf(acct.doc.iam.samlProviders);
    if (!provider) {
      provider = newSamlProvider(accountId, this.s.rng, t);
      acct.doc.iam.samlProviders.push(provider);
    }
    const role = newReservedRole(ps, accountId, provider, {
      rng: this.s.rng,
      createDate: t,
      region: "us-east-1",
      hasPolicy,
    });
    acct.roles.set(role.name, role);
    // As in AWS, the role is created by Identity Center's own IAM calls, recorded in the member account.
    this.recordIam(accountId, "CreateRole", {
      roleName: role.name,
      path: role.path,
      assumeRolePolicyDocument: role.trustPolicy,
    });
    for (const policyArn of role.attachedPolicies ?? [])
      this.recordIam(accountId, "AttachRolePolicy", { roleName: role.name, policyArn });
  }

  private recordIam(accountId: string, eventName: string, requestParameters: Record<string, unknown>): void {
    this.s.record(null, accountId, "iam.amazonaws.com", eventName, requestParameters);
  }
  removeReservedRole(ps: PermissionSetDoc, accountId: string): void {
    const acct = this.s.accounts.get(accountId);
    if (!acct) return;
    const match = reservedRoleMatcher(ps.name);
    for (const r of [...acct.roles.values()])
      if (match.test(r.name)) {
        acct.roles.delete(r.name);
        this.recordIam(accountId, "DeleteRole", { roleName: r.name });
      }
  }
}
