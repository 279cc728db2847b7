import { Actor } from "../actor.ts";
import { AwsError } from "../aws-error.ts";
import { CloudTrailLog } from "../cloud-trail-log.ts";
import { cryptoRng } from "../ids.ts";
import { SCIM_SOURCE, scimIdentity, scimTenantId } from "../scim-events.ts";
import type { ScimEvent } from "../scim-events.ts";
import type {
  AccountDoc,
  AssignmentDoc,
  IamGroupDoc,
  IamPolicyDoc,
  IamRoleDoc,
  IamUserDoc,
  IdentityCenterDoc,
  IdentityStoreGroupDoc,
  IdentityStoreUserDoc,
  OrgDocument,
  OrgPolicyDoc,
  PermissionSetDoc,
} from "../org-document.ts";

export interface Session {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiresAt: number;
  accountId: string;
  roleName: string;
  roleId: string;
  rolePath: string;
  sessionName: string;
  created: number;
}
export type KeyRef =
  { kind: "user"; accountId: string; userName: string } | { kind: "session"; session: Session };
export interface AccountState {
  doc: AccountDoc;
  users: Map<string, IamUserDoc>;
  groups: Map<string, IamGroupDoc>;
  roles: Map<string, IamRoleDoc>;
  policies: Map<string, IamPolicyDoc>; // by ARN
  groupMembers: Map<string, Set<string>>;
}
export interface Membership {
  membershipId: string;
  groupId: string;
  userId: string;
}

export const now = (): string => new Date().toISOString();
/**
 * How the current admin mutation reaches AWS: through the API (default) or Identity Center's SCIM endpoint (Identity
 * Store changes only), and on behalf of an Identity Center user (the caller's identity in the 2025 event format).
 */
export interface CallContext {
  via?: "api" | "scim";
  onBehalfOf?: string;
}
const policyArn = (acct: string, p: { path: string; name: string }): string =>
  `arn:aws:iam::${acct}:policy${p.path}${p.name}`;
/** One assignment's identity: at most one exists (and at most one operation is in flight) per key. */
export const aKey = (a: AssignmentDoc): string =>
  `${a.accountId}|${a.permissionSetArn}|${a.principalType}|${a.principalId}`;
function addTo<K, V>(m: Map<K, Map<string, V>>, k: K, id: string, v: V): void {
  let inner = m.get(k);
  if (!inner) m.set(k, (inner = new Map()));
  inner.set(id, v);
}
export type IdentityCenter = Omit<
  IdentityCenterDoc,
  "users" | "groups" | "memberships" | "permissionSets" | "assignments"
>;

/**
 * The simulator's in-memory entities and their indexes, shared by the per-service stores: AWS's services reference
 * each other's entities (accounts hold IAM, assignments name Identity Store principals, removing an account drops
 * its assignments), so the state is one and only the operations are split by service.
 */
export class StoreState {
  readonly org: OrgDocument["organization"];
  readonly roots: OrgDocument["roots"];
  readonly ous = new Map<string, OrgDocument["organizationalUnits"][number]>();
  readonly accounts = new Map<string, AccountState>();
  readonly keys = new Map<string, KeyRef>();
  readonly trail = new CloudTrailLog();
  readonly ic: IdentityCenter | undefined;
  readonly users = new Map<string, IdentityStoreUserDoc>();
  readonly groups = new Map<string, IdentityStoreGroupDoc>();
  readonly memberships = new Map<string, Membership>();
  readonly membershipsByGroup = new Map<string, Map<string, Membership>>();
  readonly membershipsByUser = new Map<string, Map<string, Membership>>();
  readonly permissionSets = new Map<string, PermissionSetDoc>();
  readonly provisioned = new Map<string, Set<string>>(); // psArn → accounts
  readonly provisionedByAccount = new Map<string, Set<string>>(); // account → psArns
  readonly assignments = new Map<string, AssignmentDoc>();
  readonly assignmentsByPair = new Map<string, Map<string, AssignmentDoc>>();
  readonly assignmentsByPrincipal = new Map<string, Map<string, AssignmentDoc>>();
  readonly orgPolicies = new Map<string, OrgPolicyDoc>(); // SCPs/RCPs by id
  readonly rng = cryptoRng();
  /** Set by the admin mutations for the duration of one call. */
  callContext: CallContext = {};

  constructor(doc: OrgDocument) {
    const d = structuredClone(doc);
    this.org = d.organization;
    this.roots = d.roots;
    for (const ou of d.organizationalUnits) this.ous.set(ou.id, ou);
    for (const a of d.accounts) this.indexAccount(a);
    for (const p of d.policies) this.orgPolicies.set(p.id, p);
    if (d.identityCenter) {
      const { users, groups, memberships, permissionSets, assignments, ...ic } = d.identityCenter;
      this.ic = ic;
      for (const u of users) this.users.set(u.userId, u);
      for (const g of groups) this.groups.set(g.groupId, g);
      for (const m of memberships) this.indexMembership(m);
      for (const ps of permissionSets) {
        this.permissionSets.set(ps.arn, ps);
        for (const acct of ps.provisionedTo) this.markProvisioned(ps.arn, acct);
        ps.provisionedTo = [];
      }
      for (const a of assignments) this.indexAssignment(a);
    }
  }

  indexAccount(doc: AccountDoc): AccountState {
    const s: AccountState = {
      doc,
      users: new Map(),
      groups: new Map(),
      roles: new Map(),
      policies: new Map(),
      groupMembers: new Map(),
    };
    for (const g of doc.iam.groups) {
      s.groups.set(g.name, g);
      s.groupMembers.set(g.name, new Set());
    }
    for (const u of doc.iam.users) {
      s.users.set(u.name, u);
      for (const g of u.groups) s.groupMembers.get(g)?.add(u.name);
      for (const k of u.accessKeys)
        this.keys.set(k.id, { kind: "user", accountId: doc.id, userName: u.name });
    }
    for (const r of doc.iam.roles) s.roles.set(r.name, r);
    for (const p of doc.iam.policies) s.policies.set(policyArn(doc.id, p), p);
    this.accounts.set(doc.id, s);
    return s;
  }
  indexMembership(m: Membership): void {
    this.memberships.set(m.membershipId, m);
    addTo(this.membershipsByGroup, m.groupId, m.membershipId, m);
    addTo(this.membershipsByUser, m.userId, m.membershipId, m);
  }
  indexAssignment(a: AssignmentDoc): void {
    const k = aKey(a);
    this.assignments.set(k, a);
    addTo(this.assignmentsByPair, `${a.accountId}|${a.permissionSetArn}`, k, a);
    addTo(this.assignmentsByPrincipal, a.principalId, k, a);
  }
  markProvisioned(ps: string, acct: string): void {
    let s = this.provisioned.get(ps);
    if (!s) this.provisioned.set(ps, (s = new Set()));
    s.add(acct);
    let t = this.provisionedByAccount.get(acct);
    if (!t) this.provisionedByAccount.set(acct, (t = new Set()));
    t.add(ps);
  }

  account(id: string): AccountState {
    const a = this.accounts.get(id);
    if (!a)
      throw new AwsError("AccountNotFoundException", "You specified an account that doesn't exist.", 404);
    return a;
  }
  record(
    actor: Actor | null,
    accountId: string,
    eventSource: string,
    eventName: string,
    requestParameters: Record<string, unknown>,
    resources: Array<{ ResourceType: string; ResourceName: string }> = [],
    responseElements?: Record<string, unknown>,
  ): void {
    this.trail.append(actor ?? this.adminActor(accountId), {
      accountId,
      eventSource,
      eventName,
      requestParameters,
      resources,
      responseElements,
    });
  }
  /** A SCIM call: recorded in the management account under the SCIM source, the IdP's token as the caller. */
  recordScim(ev: ScimEvent, error?: { code: string; message: string }): void {
    const mg = this.mgmt();
    this.trail.append(this.adminActor(mg), {
      accountId: mg,
      eventSource: SCIM_SOURCE,
      eventName: ev.eventName,
      requestParameters: ev.requestParameters,
      responseElements: ev.responseElements,
      resources: ev.resources,
      userIdentity: scimIdentity(mg),
      ...(error ? { error } : {}),
    });
  }
  viaScim(): boolean {
    return this.callContext.via === "scim";
  }
  scimTenantId(): string {
    return scimTenantId(this.icOrThrow().identityStoreId);
  }
  /** The admin API's caller: the account's root, or the Identity Center user the mutation is made on behalf of. */
  adminActor(accountId: string): Actor {
    const userId = this.callContext.onBehalfOf;
    if (userId === undefined || !this.ic) return new Actor({ kind: "Admin", accountId });
    return new Actor({
      kind: "IdentityCenterUser",
      accountId,
      onBehalfOf: {
        userId,
        identityStoreArn: `arn:aws:identitystore::${this.mgmt()}:identitystore/${this.ic.identityStoreId}`,
      },
    });
  }
  mgmt(): string {
    return this.org.managementAccountId;
  }

  icOrThrow(): IdentityCenter {
    if (!this.ic) throw new AwsError("ResourceNotFoundException", "No Identity Center instance.", 404);
    return this.ic;
  }
  unindexMembership(m: Membership): void {
    this.memberships.delete(m.membershipId);
    this.membershipsByGroup.get(m.groupId)?.delete(m.membershipId);
    this.membershipsByUser.get(m.userId)?.delete(m.membershipId);
  }
  unindexAssignment(a: AssignmentDoc): void {
    const k = aKey(a);
    this.assignments.delete(k);
    this.assignmentsByPair.get(`${a.accountId}|${a.permissionSetArn}`)?.delete(k);
    this.assignmentsByPrincipal.get(a.principalId)?.delete(k);
  }
}
