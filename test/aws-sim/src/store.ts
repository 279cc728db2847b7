import { secretKey } from "./ids.ts";
import type { OrgDocument } from "./org-document.ts";
import { IamStore } from "./store/iam-store.ts";
import { IdentityStoreStore } from "./store/identity-store-store.ts";
import { OrgPolicyStore } from "./store/org-policy-store.ts";
import { OrganizationsStore } from "./store/organizations-store.ts";
import { SsoAdminStore } from "./store/sso-admin-store.ts";
import { StoreState } from "./store/store-state.ts";
import { StsStore } from "./store/sts-store.ts";

export type { AccountState, Membership } from "./store/store-state.ts";
export type { AssignmentOp } from "./store/sso-admin-store.ts";

/**
 * The simulator's in-memory state (the org document plus indexes, the CloudTrail log and STS sessions) and its
 * operations, one store per AWS service.
 */
export class Store extends StoreState {
  readonly organizations = new OrganizationsStore(this);
  readonly iam = new IamStore(this);
  readonly identityStore = new IdentityStoreStore(this);
  readonly ssoAdmin = new SsoAdminStore(this);
  readonly sts = new StsStore(this);
  readonly organizationPolicies = new OrgPolicyStore(this);
  readonly managementCredentials: { accessKeyId: string; secretAccessKey: string };

  constructor(doc: OrgDocument) {
    super(doc);
    this.managementCredentials = this.findManagementKey();
  }

  private findManagementKey(): { accessKeyId: string; secretAccessKey: string } {
    const mgmt = this.account(this.org.managementAccountId);
    for (const u of mgmt.users.values()) {
      const k = u.accessKeys.find((k) => k.status === "Active");
      if (k) return { accessKeyId: k.id, secretAccessKey: (k.secret ??= secretKey(this.rng)) };
    }
    const u = this.iam.createIamUser(null, mgmt.doc.id, { userName: "aws-sim-admin" });
    const k = this.iam.createAccessKey(null, mgmt.doc.id, u.name);
    return { accessKeyId: k.id, secretAccessKey: k.secret ?? "" };
  }

  exportOrg(): OrgDocument {
    this.ssoAdmin.settle();
    const accounts = [...this.accounts.values()].map((s) => ({
      ...s.doc,
      iam: {
        aliases: s.doc.iam.aliases,
        users: [...s.users.values()],
        groups: [...s.groups.values()],
        roles: [...s.roles.values()],
        policies: [...s.policies.values()],
        samlProviders: s.doc.iam.samlProviders,
      },
    }));
    const doc: OrgDocument = {
      organization: this.org,
      roots: this.roots,
      organizationalUnits: [...this.ous.values()],
      accounts,
      identityCenter: this.ic
        ? {
            ...this.ic,
            users: [...this.users.values()],
            groups: [...this.groups.values()],
            memberships: [...this.memberships.values()],
            permissionSets: [...this.permissionSets.values()].map((ps) => ({
              ...ps,
              provisionedTo: [...(this.provisioned.get(ps.arn) ?? [])],
            })),
            assignments: [...this.assignments.values()],
          }
        : undefined,
      policies: [...this.orgPolicies.values()],
    };
    return structuredClone(doc);
  }
}
