import { evaluateTrust } from "./evaluate-trust.ts";

/** Builders for the hand-written trust policies of the trust tests. */
export const ACCT = "111122223333";
export const OTHER = "444455556666";
export const arn = (rest: string, acct = ACCT) => `arn:aws:iam::${acct}:${rest}`;
export const doc = (...Statement: unknown[]) => ({ Version: "2012-10-17", Statement });

const statement =
  (Effect: "Allow" | "Deny") =>
  (Principal: unknown, Action: unknown = "sts:AssumeRole", extra: object = {}) => ({
    Effect,
    Principal,
    Action,
    ...extra,
  });
export const allow = statement("Allow");
export const deny = statement("Deny");

/** [type, id, actions] of each trusted principal: the shape most cases assert. */
export const who = (d: Parameters<typeof evaluateTrust>[0]) =>
  evaluateTrust(d).trusted.map((t) => [t.principalType, t.principalId, t.actions]);
