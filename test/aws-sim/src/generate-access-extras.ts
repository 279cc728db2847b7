// What a generated organization gets beyond generateOrg's core draws: consistent dates, SCPs/RCPs, permissions
// boundaries and Identity Center's reserved roles. It draws from its own seeded stream so adding it left every
// existing id, name and membership of a (preset, seed) unchanged.
import { lower, mulberry32, type Rng } from "./ids.ts";
import type { AccountDoc, OrgDocument, OrgPolicyDoc, PermissionSetDoc } from "./org-document.ts";
import { awsManagedOrgPolicy, orgPolicyArn } from "./store/org-policy-store.ts";
import { newReservedRole, newSamlProvider } from "./store/reserved-sso-roles.ts";

type Preset = "tiny" | "small" | "medium" | "large";
const ms = (iso: string): number => Date.parse(iso);
const iso = (t: number): string => new Date(t).toISOString();
const HOUR = 3_600_000;
const CEILING = "2024-12-31T00:00:00.000Z";

/**
 * Moves `drawn` to no earlier than `floor` (keeping its spread: a date drawn before the floor lands a few hours to
 * a few weeks after it, determined by the drawn value), and no later than `ceiling`.
 */
export function notBefore(drawn: string, floor: string, ceiling = CEILING): string {
  // ISO strings of one format order like their dates: the common case needs no parsing.
  if (drawn >= floor && drawn <= ceiling) return drawn;
  const d = ms(drawn);
  const f = ms(floor);
  const t = d >= f ? d : f + HOUR + (Math.abs(d) % (30 * 24 * HOUR));
  return iso(Math.min(Math.max(t, f), Math.max(ms(ceiling), f)));
}

/** Makes every date consistent with what it depends on (see generate-org.test.ts for the invariants). */
export function fixDates(doc: OrgDocument): void {
  const mgmt = doc.accounts.find((a) => a.id === doc.organization.managementAccountId)!;
  const orgStart = doc.accounts.reduce(
    (m, a) => (a.joinedTimestamp < m ? a.joinedTimestamp : m),
    mgmt.joinedTimestamp,
  );
  // The management account created the organization: it joined first.
  mgmt.joinedTimestamp = orgStart;
  for (const a of doc.accounts) {
    if (a !== mgmt) a.joinedTimestamp = notBefore(a.joinedTimestamp, orgStart);
    // An account created by the organization has nothing older than its joining; an invited one may.
    const floor = a.joinedMethod === "CREATED" ? a.joinedTimestamp : "2015-01-01T00:00:00.000Z";
    for (const p of a.iam.policies) {
      p.createDate = notBefore(p.createDate, floor);
      let prev = p.createDate;
      for (const v of p.versions) prev = v.createDate = notBefore(v.createDate, prev);
      p.updateDate = p.versions.find((v) => v.versionId === p.defaultVersionId)?.createDate ?? p.createDate;
    }
    for (const g of a.iam.groups) g.createDate = notBefore(g.createDate, floor);
    for (const r of a.iam.roles) r.createDate = notBefore(r.createDate, floor);
    for (const u of a.iam.users) {
      u.createDate = notBefore(u.createDate, floor);
      if (u.passwordLastUsed) u.passwordLastUsed = notBefore(u.passwordLastUsed, u.createDate);
      for (const k of u.accessKeys) {
        k.createDate = notBefore(k.createDate, u.createDate);
        if (k.lastUsed) k.lastUsed.date = notBefore(k.lastUsed.date, k.createDate);
      }
    }
  }
  const ic = doc.identityCenter;
  if (!ic) return;
  ic.createdDate = notBefore(ic.createdDate, orgStart);
  for (const ps of ic.permissionSets) ps.createdDate = notBefore(ps.createdDate, ic.createdDate);
}

const BOUNDARY_POLICIES = [
  "arn:aws:iam::aws:policy/PowerUserAccess",
  "arn:aws:iam::aws:policy/ReadOnlyAccess",
];

/** Permissions boundaries on some users, roles and permission sets (a few in small presets, ~1 in 8 beyond). */
function addBoundaries(rng: Rng, doc: OrgDocument, preset: Preset): void {
  const share = preset === "tiny" || preset === "small" ? 0.25 : 0.125;
  for (const a of doc.accounts) {
    const deploy = a.iam.policies.find((p) => p.name === "deploy-policy");
    const custom = deploy ? `arn:aws:iam::${a.id}:policy${deploy.path}${deploy.name}` : undefined;
    for (const u of a.iam.users)
      if (u.name !== "grantline-sync" && rng() < share) u.permissionsBoundary = BOUNDARY_POLICIES[0];
    for (const r of a.iam.roles)
      if (r.name === "app-runtime" && rng() < share * 2)
        r.permissionsBoundary = custom ?? BOUNDARY_POLICIES[1];
  }
  for (const [i, ps] of (doc.identityCenter?.permissionSets ?? []).entries()) {
    if (i % 5 === 1) ps.permissionsBoundary = { managedPolicyArn: BOUNDARY_POLICIES[0]! };
    else if (i % 7 === 3)
      ps.permissionsBoundary = { customerManagedPolicyReference: { name: "deploy-policy", path: "/" } };
  }
}

const denyStatement = (sid: string, action: string[]): string =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Sid: sid, Effect: "Deny", Action: action, Resource: "*" }],
  });

/** SCPs everywhere (FullAWSAccess on every root, OU and account, plus customer SCPs); RCPs in medium/large. */
function addOrgPolicies(rng: Rng, doc: OrgDocument, preset: Preset): void {
  const root = doc.roots[0]!;
  const everywhere = [root.id, ...doc.organizationalUnits.map((o) => o.id), ...doc.accounts.map((a) => a.id)];
  const rcp = preset === "medium" || preset === "large";
  root.policyTypes = [{ type: "SERVICE_CONTROL_POLICY", status: "ENABLED" }];
  if (rcp) root.policyTypes.push({ type: "RESOURCE_CONTROL_POLICY", status: "ENABLED" });
  const policies: OrgPolicyDoc[] = [
    awsManagedOrgPolicy(doc.organization, "SERVICE_CONTROL_POLICY", everywhere),
  ];
  const pick = <T>(xs: T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const members = doc.accounts.filter((a) => a.id !== doc.organization.managementAccountId).map((a) => a.id);
  const ous = doc.organizationalUnits.map((o) => o.id);
  const custom = (
    type: OrgPolicyDoc["type"],
    name: string,
    content: string,
    targets: string[],
  ): OrgPolicyDoc => {
    const id = `p-${lower(rng, 10)}`;
    return {
      id,
      arn: orgPolicyArn(doc.organization, type, id, false),
      name,
      description: `${name} guardrail`,
      type,
      awsManaged: false,
      content,
      targets: [...new Set(targets)],
    };
  };
  policies.push(
    custom(
      "SERVICE_CONTROL_POLICY",
      "DenyLeaveOrganization",
      denyStatement("NoLeave", ["organizations:LeaveOrganization"]),
      ous,
    ),
    custom("SERVICE_CONTROL_POLICY", "DenyRootUser", denyStatement("NoRoot", ["*"]), [pick(ous)]),
    custom(
      "SERVICE_CONTROL_POLICY",
      "RegionLock eu+us",
      denyStatement("Regions", ["ec2:RunInstances"]),
      members.length ? [pick(members), pick(members)] : [],
    ),
    custom("SERVICE_CONTROL_POLICY", "Unattached draft", denyStatement("Draft", ["s3:DeleteBucket"]), []),
  );
  if (rcp) {
    policies.push(awsManagedOrgPolicy(doc.organization, "RESOURCE_CONTROL_POLICY", everywhere));
    policies.push(custom("RESOURCE_CONTROL_POLICY", "EnforceTLS", denyStatement("TLS", ["s3:*"]), [root.id]));
  }
  doc.policies = policies;
}

/** Identity Center's role (and the account's SAML provider) for every provisioned (account, set). */
function addReservedRoles(rng: Rng, doc: OrgDocument): void {
  const ic = doc.identityCenter;
  if (!ic) return;
  const byId = new Map<string, AccountDoc>(doc.accounts.map((a) => [a.id, a]));
  for (const ps of ic.permissionSets as PermissionSetDoc[])
    for (const id of ps.provisionedTo) {
      const a = byId.get(id);
      if (!a) continue;
      const since = notBefore(notBefore(ps.createdDate, a.joinedTimestamp), ic.createdDate);
      let provider = a.iam.samlProviders[0];
      if (!provider) a.iam.samlProviders.push((provider = newSamlProvider(a.id, rng, since)));
      else if (since < provider.createDate) provider.createDate = since;
      const arns = new Set(a.iam.policies.map((p) => `arn:aws:iam::${a.id}:policy${p.path}${p.name}`));
      const created = iso(ms(since) + Math.floor(rng() * 48) * HOUR);
      a.iam.roles.push(
        newReservedRole(ps, a.id, provider, {
          rng,
          createDate: created,
          region: "us-east-1",
          hasPolicy: (arn) => arn.startsWith("arn:aws:iam::aws:") || arns.has(arn),
        }),
      );
    }
}

export function addAccessExtras(doc: OrgDocument, preset: Preset, seed: number): void {
  const rng = mulberry32(seed * 40503 + 7919);
  fixDates(doc);
  addBoundaries(rng, doc, preset);
  addOrgPolicies(rng, doc, preset);
  addReservedRoles(rng, doc);
}
