import type { PrincipalType } from "@grantline/contracts";
import { actionMatches } from "./action-matches.ts";
import {
  ASSUME_ACTIONS,
  classifyAwsPrincipal,
  principalKey,
  principalsOf,
  samePrincipal,
  type AssumeAction,
  type PrincipalRef,
} from "./classify-principal.ts";
import {
  coversAction,
  hasCondition,
  parsePolicy,
  type IndexedStatement,
  type PolicyInput,
  type PolicyStatement,
} from "./policy-document.ts";
import { collectConditions, type TrustConditions } from "./trust-conditions.ts";

export interface TrustedPrincipal {
  principalType: PrincipalType;
  principalId: string;
  /** True for iam_role: whoever can assume it reaches what it can. */
  expandable: boolean;
  /** Which assume actions this principal is allowed. */
  actions: AssumeAction[];
  conditions: TrustConditions | null;
  /** True when any condition applies (an Allow condition, or a Deny that applies only under a condition). */
  conditional: boolean;
  /** Indexes of the Allow statements that grant it. */
  statements: number[];
}

export interface TrustEvaluation {
  trusted: TrustedPrincipal[];
  /** Statements that could not be understood, with why. */
  problems: string[];
}

/** One Allow statement's grant to one principal, before Denies and merging. */
interface Entry {
  ref: PrincipalRef;
  statement: PolicyStatement;
  index: number;
  actions: Set<AssumeAction>;
  deniedUnderCondition: boolean;
}

/** A Deny statement, its principals already classified. */
interface DenyRule {
  statement: PolicyStatement;
  /** `Principal` (denies those named) or `NotPrincipal` (denies everyone not named). */
  mode: "named" | "all-but";
  refs: PrincipalRef[];
}

/** A Deny naming `*`, the principal's account, or the principal itself reaches it. */
const reaches = (named: PrincipalRef, p: PrincipalRef): boolean =>
  named.principalType === "wildcard" ||
  (named.principalType === "aws_account" && p.accountId === named.principalId) ||
  samePrincipal(named, p);

function denyApplies(rule: DenyRule, p: PrincipalRef, action: AssumeAction): boolean {
  if (coversAction(rule.statement, action, actionMatches) !== true) return false;
  const named = rule.refs.some((r) => reaches(r, p));
  return rule.mode === "named" ? named : !named;
}

interface Parsed {
  allows: Entry[];
  denies: DenyRule[];
  problems: string[];
}

function readStatements(statements: IndexedStatement[], problems: string[]): Parsed {
  const allows: Entry[] = [];
  const denies: DenyRule[] = [];
  for (const { index, statement: s } of statements) {
    const at = `statement ${index}`;
    if (!s.Action && !s.NotAction) {
      problems.push(`${at}: no Action or NotAction`);
      continue;
    }
    const block = s.Principal ?? s.NotPrincipal;
    if (!block) {
      problems.push(`${at}: a trust policy statement needs a Principal`);
      continue;
    }
    if (s.Effect === "Allow" && s.NotPrincipal) {
      problems.push(`${at}: NotPrincipal is only allowed with Deny; the statement grants nothing`);
      continue;
    }
    const { refs, problems: pp } = principalsOf(block);
    problems.push(...pp.map((p) => `${at}: ${p}`));
    if (s.Effect === "Deny") {
      denies.push({ statement: s, mode: s.Principal ? "named" : "all-but", refs });
      continue;
    }
    const covered = ASSUME_ACTIONS.filter((a) => coversAction(s, a, actionMatches));
    for (const ref of refs) {
      const actions = new Set(covered.filter((a) => ref.pairs.includes(a)));
      if (actions.size > 0) allows.push({ ref, statement: s, index, actions, deniedUnderCondition: false });
    }
  }
  return { allows, denies, problems };
}

/**
 * An Allow to `*` or to a whole account, cut by an unconditional Deny with NotPrincipal, still lets the listed
 * principals (inside it) through: they become grants of their own rather than vanish with the broad one.
 */
function survivorsOfNotPrincipal(allows: Entry[], denies: DenyRule[]): Entry[] {
  const out: Entry[] = [];
  for (const rule of denies) {
    if (rule.mode !== "all-but" || hasCondition(rule.statement)) continue;
    for (const e of allows) {
      if (e.ref.principalType !== "wildcard" && e.ref.principalType !== "aws_account") continue;
      for (const listed of rule.refs) {
        if (listed.principalType === "wildcard" || !reaches(e.ref, listed) || samePrincipal(listed, e.ref))
          continue;
        const actions = new Set([...e.actions].filter((a) => listed.pairs.includes(a)));
        if (actions.size > 0) out.push({ ...e, ref: listed, actions });
      }
    }
  }
  return out;
}

function applyDenies(entries: Entry[], denies: DenyRule[]): void {
  for (const e of entries)
    for (const action of [...e.actions])
      for (const rule of denies) {
        if (!denyApplies(rule, e.ref, action)) continue;
        if (hasCondition(rule.statement)) e.deniedUnderCondition = true;
        else e.actions.delete(action);
      }
}

function merge(entries: Entry[]): TrustedPrincipal[] {
  const groups = new Map<string, Entry[]>();
  for (const e of entries) {
    if (e.actions.size === 0) continue;
    const k = principalKey(e.ref);
    groups.set(k, [...(groups.get(k) ?? []), e]);
  }
  return [...groups.values()].map((group) => {
    const first = group[0]!;
    const actions = new Set(group.flatMap((e) => [...e.actions]));
    // One unconditional Allow is enough: the principal is trusted whatever the other statements require.
    const unconditional = group.some((e) => !hasCondition(e.statement));
    let conditions: TrustConditions | null = null;
    if (!unconditional) {
      conditions = {};
      for (const e of group) collectConditions(conditions, e.statement.Condition);
    }
    return {
      principalType: first.ref.principalType,
      principalId: first.ref.principalId,
      expandable: first.ref.expandable,
      actions: ASSUME_ACTIONS.filter((a) => actions.has(a)),
      conditions,
      conditional: !unconditional || group.some((e) => e.deniedUnderCondition),
      statements: [...new Set(group.map((e) => e.index))].sort((a, b) => a - b),
    };
  });
}

/**
 * Who a role's trust policy lets assume it, by the AWS rules (aws-access-semantics §1): Allow statements grant
 * the assume actions their Action/NotAction covers to the principals that can call them (AWS/Service →
 * AssumeRole, SAML provider → AssumeRoleWithSAML, OIDC provider → AssumeRoleWithWebIdentity); an explicit Deny
 * removes what it covers, or only makes it conditional when the Deny has a Condition.
 */
export function evaluateTrust(document: PolicyInput): TrustEvaluation {
  const parsed = parsePolicy(document);
  const { allows, denies, problems } = readStatements(parsed.statements, [...parsed.problems]);
  const entries = [...allows, ...survivorsOfNotPrincipal(allows, denies)];
  applyDenies(entries, denies);
  return { trusted: merge(entries), problems };
}

/**
 * Whether the trust policy's explicit Denies refuse a concrete principal (used when expanding an account-root
 * trust to that account's users/roles). `unconditional` is false when every denying statement has a Condition.
 */
export function trustDenies(
  document: PolicyInput,
  principal: { arn: string; accountId: string; action?: AssumeAction },
): { denied: boolean; unconditional: boolean } {
  const { statements, problems } = parsePolicy(document);
  const { denies } = readStatements(statements, problems);
  const ref: PrincipalRef = { ...classifyAwsPrincipal(principal.arn), accountId: principal.accountId };
  const hits = denies.filter((d) => denyApplies(d, ref, principal.action ?? "sts:AssumeRole"));
  return {
    denied: hits.length > 0,
    unconditional: hits.some((d) => !hasCondition(d.statement)),
  };
}
