import { sql } from "kysely";

/*
 * A grant grantline derived when a run finished (the Identity Center → role link, an account-root trust
 * expanded to that account's principals) carries attrs.derivedFrom; a grant AWS lists does not. Whatever compares
 * synced grants or their events with what AWS says — the e2e ground truth, the benchmark's row check — tells
 * them apart with these two spellings of the one rule, so a new kind of derivation cannot make them drift.
 */

/** For a query over `grants`: the grant is one AWS lists, not a derived one. */
export const grantReadFromAws = sql<boolean>`NOT (grants.attrs ? 'derivedFrom')`;

/** For a grant's attrs as read (a row, or a grant event's `data.attrs`): it is a derived grant. */
export function isDerivedGrant(attrs: unknown): boolean {
  return typeof attrs === "object" && attrs !== null && "derivedFrom" in attrs;
}
