import type { Actor } from "../actor.ts";
import { AwsError } from "../aws-error.ts";
import { iamId, lower } from "../ids.ts";
import type { AccountDoc, IamRoleDoc } from "../org-document.ts";
import { OrgPolicyStore } from "./org-policy-store.ts";
import { now, type StoreState } from "./store-state.ts";
/** Accounts joining, leaving and changing status; the OU tree is read-only. */
export class OrganizationsStore {
  constructor(private readonly s: StoreState) {}

  createAccount(
    actor: Actor | null,
    p: { name: string; email: string; parentId?: string; id?: string; status?: AccountDoc["status"] },
  ): AccountDoc {
    if (p.id !== undefined && (this.s.accounts.has(p.id) || !/^\d{12}$/.test(p.id)))
      throw new AwsError(
        "DuplicateAccountException",
        "That account is already present in the specified organization.",
        409,
      );
    let id = p.id ?? "";
    while (!id || this.s.accounts.has(id))
      id = String(100_000_000_000 + Math.floor(this.s.rng() * 899_999_999_999));
    if (
      p.parentId !== undefined &&
      !this.s.ous.has(p.parentId) &&
      !this.s.roots.some((r) => r.id === p.parentId)
    )
      throw new AwsError(
        "ParentNotFoundException",
        "We can't find a root or OU with the ParentId that you specified.",
        404,
      );
    const doc: AccountDoc = {
      id,
      name: p.name,
      email: p.email,
      status: p.status ?? "ACTIVE",
      parentId: p.parentId ?? this.s.roots[0]!.id,
      joinedMethod: "CREATED",
      joinedTimestamp: now(),
      iam: { aliases: [], users: [], groups: [], roles: [], policies: [], samlProviders: [] },
    };
    const s = this.s.indexAccount(doc);
    const mg = this.s.mgmt();
    const r: IamRoleDoc = {
      name: "OrganizationAccountAccessRole",
      id: iamId(this.s.rng, "AROA"),
      path: "/",
      createDate: now(),
      maxSessionDuration: 3600,
      trustPolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${mg}:root` }, Action: "sts:AssumeRole" },
        ],
      }),
      tags: [],
      attachedPolicies: ["arn:aws:iam::aws:policy/AdministratorAccess"],
      inlinePolicies: [],
    };
    s.roles.set(r.name, r);
    new OrgPolicyStore(this.s).attachDefaults(id);
    // CreateAccount is asynchronous in AWS: the call's record carries only the request's status id; the new account's
    // id arrives in the CreateAccountResult service event that follows.
    const status = { id: `car-${lower(this.s.rng, 32)}`, accountName: p.name, state: "IN_PROGRESS" };
    this.s.record(
      actor,
      mg,
      "organizations.amazonaws.com",
      "CreateAccount",
      { accountName: p.name, email: p.email },
      [],
      { createAccountStatus: status },
    );
    this.s.trail.append(this.s.adminActor(mg), {
      accountId: mg,
      eventSource: "organizations.amazonaws.com",
      eventName: "CreateAccountResult",
      eventType: "AwsServiceEvent",
      requestParameters: null,
      userIdentity: { accountId: mg, invokedBy: "AWS Internal" },
      serviceEventDetails: {
        createAccountStatus: { ...status, state: "SUCCEEDED", accountId: id, completedTimestamp: now() },
      },
      resources: [{ ResourceType: "AWS::Organizations::Account", ResourceName: id }],
    });
    return doc;
  }
  removeAccount(actor: Actor | null, accountId: string): void {
    this.s.account(accountId);
    if (accountId === this.s.mgmt())
      throw new AwsError("ConstraintViolationException", "You cannot remove the management account.", 409);
    this.s.accounts.delete(accountId);
    new OrgPolicyStore(this.s).forgetTarget(accountId);
    for (const [k, ref] of this.s.keys)
      if ((ref.kind === "user" ? ref.accountId : ref.session.accountId) === accountId) this.s.keys.delete(k);
    for (const ps of this.s.provisionedByAccount.get(accountId) ?? [])
      this.s.provisioned.get(ps)?.delete(accountId);
    this.s.provisionedByAccount.delete(accountId);
    for (const a of [...this.s.assignments.values()])
      if (a.accountId === accountId) this.s.unindexAssignment(a);
    this.s.record(
      actor,
      this.s.mgmt(),
      "organizations.amazonaws.com",
      "RemoveAccountFromOrganization",
      { accountId },
      [{ ResourceType: "AWS::Organizations::Account", ResourceName: accountId }],
    );
  }
  setAccountStatus(actor: Actor | null, accountId: string, status: AccountDoc["status"]): void {
    if (!["ACTIVE", "SUSPENDED", "PENDING_CLOSURE"].includes(status))
      throw new AwsError("InvalidInputException", `Invalid account status ${status}.`, 400);
    this.s.account(accountId).doc.status = status;
    this.s.record(
      actor,
      this.s.mgmt(),
      "organizations.amazonaws.com",
      status === "ACTIVE" ? "UpdateAccount" : "CloseAccount",
      { accountId },
      [{ ResourceType: "AWS::Organizations::Account", ResourceName: accountId }],
    );
  }
}
