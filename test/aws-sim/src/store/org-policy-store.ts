import type { Actor } from "../actor.ts";
import { AwsError } from "../aws-error.ts";
import { lower } from "../ids.ts";
import type { OrgPolicyDoc, OrgPolicyType } from "../org-document.ts";
import type { StoreState } from "./store-state.ts";

const TYPE_PATH: Record<OrgPolicyType, string> = {
  SERVICE_CONTROL_POLICY: "service_control_policy",
  RESOURCE_CONTROL_POLICY: "resource_control_policy",
};
/** AWS-managed policies Organizations attaches everywhere when their policy type is enabled. */
export const AWS_MANAGED_ORG_POLICIES: Record<
  OrgPolicyType,
  { id: string; name: string; description: string }
> = {
  SERVICE_CONTROL_POLICY: {
    id: "p-FullAWSAccess",
    name: "FullAWSAccess",
    description: "Allows access to every operation",
  },
  RESOURCE_CONTROL_POLICY: {
    id: "p-RCPFullAWSAccess",
    name: "RCPFullAWSAccess",
    description: "Allows access to every resource",
  },
};
export function orgPolicyArn(
  org: { id: string; managementAccountId: string },
  type: OrgPolicyType,
  id: string,
  awsManaged: boolean,
): string {
  return awsManaged
    ? `arn:aws:organizations::aws:policy/${TYPE_PATH[type]}/${id}`
    : `arn:aws:organizations::${org.managementAccountId}:policy/${org.id}/${TYPE_PATH[type]}/${id}`;
}
/** The AWS-managed policy of a type, as Organizations creates it when the type is enabled. */
export function awsManagedOrgPolicy(
  org: { id: string; managementAccountId: string },
  type: OrgPolicyType,
  targets: string[],
): OrgPolicyDoc {
  const m = AWS_MANAGED_ORG_POLICIES[type];
  return {
    id: m.id,
    arn: orgPolicyArn(org, type, m.id, true),
    name: m.name,
    description: m.description,
    type,
    awsManaged: true,
    content: JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        type === "SERVICE_CONTROL_POLICY"
          ? { Effect: "Allow", Action: "*", Resource: "*" }
          : { Effect: "Allow", Principal: "*", Action: "*", Resource: "*" },
      ],
    }),
    targets,
  };
}

/** Organizations SCPs and RCPs and their attachments to the root, OUs and accounts. */
export class OrgPolicyStore {
  constructor(private readonly s: StoreState) {}

  policy(id: string): OrgPolicyDoc {
    const p = this.s.orgPolicies.get(id);
    if (!p)
      throw new AwsError(
        "PolicyNotFoundException",
        "We can't find a policy with the PolicyId that you specified.",
        404,
      );
    return p;
  }
  typeEnabled(type: OrgPolicyType): boolean {
    return this.s.roots.some((r) => r.policyTypes.some((t) => t.type === type && t.status === "ENABLED"));
  }
  targetExists(id: string): boolean {
    return this.s.accounts.has(id) || this.s.ous.has(id) || this.s.roots.some((r) => r.id === id);
  }
  requireTarget(id: string): void {
    if (!this.targetExists(id))
      throw new AwsError(
        "TargetNotFoundException",
        "We can't find a root, OU, account, or email that you specified.",
        404,
      );
  }
  createOrgPolicy(
    actor: Actor | null,
    p: { name: string; type: OrgPolicyType; content: string; description?: string },
  ): OrgPolicyDoc {
    if ([...this.s.orgPolicies.values()].some((x) => x.name === p.name && x.type === p.type))
      throw new AwsError("DuplicatePolicyException", "A policy with the same name already exists.", 409);
    try {
      JSON.parse(p.content);
    } catch {
      throw new AwsError(
        "MalformedPolicyDocumentException",
        "The provided policy document doesn't meet the requirements of the specified policy type.",
        400,
      );
    }
    const id = `p-${lower(this.s.rng, 10)}`;
    const doc: OrgPolicyDoc = {
      id,
      arn: orgPolicyArn(this.s.org, p.type, id, false),
      name: p.name,
      description: p.description,
      type: p.type,
      awsManaged: false,
      content: p.content,
      targets: [],
    };
    this.s.orgPolicies.set(id, doc);
    this.s.record(
      actor,
      this.s.mgmt(),
      "organizations.amazonaws.com",
      "CreatePolicy",
      {
        name: p.name,
        type: p.type,
        content: p.content,
        ...(p.description !== undefined ? { description: p.description } : {}),
      },
      [{ ResourceType: "AWS::Organizations::Policy", ResourceName: id }],
      {
        policy: {
          policySummary: { id, arn: doc.arn, name: doc.name, type: doc.type, awsManaged: false },
          content: doc.content,
        },
      },
    );
    return doc;
  }
  attach(actor: Actor | null, policyId: string, targetId: string): void {
    const p = this.policy(policyId);
    this.requireTarget(targetId);
    if (!this.typeEnabled(p.type))
      throw new AwsError(
        "PolicyTypeNotEnabledException",
        "This operation can be performed only for enabled policy types.",
        409,
      );
    if (p.targets.includes(targetId))
      throw new AwsError(
        "DuplicatePolicyAttachmentException",
        "The selected policy is already attached to the specified target.",
        409,
      );
    p.targets.push(targetId);
    this.trail(actor, "AttachPolicy", policyId, targetId);
  }
  detach(actor: Actor | null, policyId: string, targetId: string): void {
    const p = this.policy(policyId);
    this.requireTarget(targetId);
    if (!p.targets.includes(targetId))
      throw new AwsError(
        "PolicyNotAttachedException",
        "The policy isn't attached to the specified target in the specified root.",
        409,
      );
    // Every root, OU and account keeps at least one policy of each enabled type (the last one is not detachable).
    const others = [...this.s.orgPolicies.values()].filter(
      (x) => x !== p && x.type === p.type && x.targets.includes(targetId),
    );
    if (others.length === 0)
      throw new AwsError(
        "ConstraintViolationException",
        "You can't detach the last policy of this type from the target.",
        409,
        {
          Reason: "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
        },
      );
    p.targets = p.targets.filter((t) => t !== targetId);
    this.trail(actor, "DetachPolicy", policyId, targetId);
  }
  /** A new account gets the AWS-managed policy of every enabled type, as Organizations does. */
  attachDefaults(accountId: string): void {
    for (const type of Object.keys(AWS_MANAGED_ORG_POLICIES) as OrgPolicyType[]) {
      const p = this.s.orgPolicies.get(AWS_MANAGED_ORG_POLICIES[type].id);
      if (p && this.typeEnabled(type) && !p.targets.includes(accountId)) p.targets.push(accountId);
    }
  }
  /** An account leaving the organization leaves its policy attachments behind. */
  forgetTarget(id: string): void {
    for (const p of this.s.orgPolicies.values()) p.targets = p.targets.filter((t) => t !== id);
  }
  private trail(actor: Actor | null, name: string, policyId: string, targetId: string): void {
    this.s.record(actor, this.s.mgmt(), "organizations.amazonaws.com", name, { policyId, targetId }, [
      { ResourceType: "AWS::Organizations::Policy", ResourceName: policyId },
    ]);
  }
}
