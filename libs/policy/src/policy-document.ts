import { z } from "zod";

/** A policy value AWS accepts as one string or a list of them. */
const OneOrMany = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));

/** `"*"`, or `{ AWS | Service | Federated | CanonicalUser: string | string[] }`. */
const PrincipalBlock = z.union([z.literal("*"), z.record(z.string(), OneOrMany)]);

/** AWS accepts bare booleans and numbers as condition values; they compare as strings. */
const ConditionValue = z
  .union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number(), z.boolean()]))])
  .transform((v) => (Array.isArray(v) ? v : [v]).map(String));
/** `{ Operator: { Key: value | values } }`. */
export const ConditionBlock = z.record(z.string(), z.record(z.string(), ConditionValue));

export type ConditionBlock = z.infer<typeof ConditionBlock>;

export const PolicyStatement = z.object({
  Sid: z.string().optional(),
  Effect: z.enum(["Allow", "Deny"]),
  Principal: PrincipalBlock.optional(),
  NotPrincipal: PrincipalBlock.optional(),
  Action: OneOrMany.optional(),
  NotAction: OneOrMany.optional(),
  Resource: OneOrMany.optional(),
  NotResource: OneOrMany.optional(),
  Condition: ConditionBlock.optional(),
});
export type PolicyStatement = z.infer<typeof PolicyStatement>;

/** A statement that parsed, with its position in the document (what `statements`/`matched` report). */
export interface IndexedStatement {
  index: number;
  statement: PolicyStatement;
}

export interface ParsedPolicy {
  statements: IndexedStatement[];
  problems: string[];
}

export type PolicyInput = string | Record<string, unknown> | null;

/**
 * A policy document as AWS stores it (JSON text, already URL-decoded) or already parsed. A statement that does
 * not parse is left out and reported, never guessed at: the rest of the document still counts.
 */
export function parsePolicy(document: PolicyInput): ParsedPolicy {
  if (document === null) return { statements: [], problems: [] };
  let doc: unknown = document;
  if (typeof document === "string") {
    try {
      doc = JSON.parse(document);
    } catch (e) {
      return { statements: [], problems: [`policy is not JSON: ${(e as Error).message}`] };
    }
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    return { statements: [], problems: ["policy is not a JSON object"] };
  const raw = (doc as Record<string, unknown>).Statement;
  if (raw === undefined) return { statements: [], problems: ["policy has no Statement"] };
  // AWS accepts a single statement object in place of the list.
  const list: unknown[] = Array.isArray(raw) ? raw : [raw];
  const statements: IndexedStatement[] = [];
  const problems: string[] = [];
  list.forEach((s, index) => {
    const parsed = PolicyStatement.safeParse(s);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.join(".") ?? "";
      problems.push(`statement ${index}: ${where ? `${where}: ` : ""}${issue?.message ?? "invalid"}`);
      return;
    }
    statements.push({ index, statement: parsed.data });
  });
  return { statements, problems };
}

/** Whether a statement's Action/NotAction covers `action`; `undefined` when it has neither (invalid). */
export function coversAction(
  s: PolicyStatement,
  action: string,
  matches: (pattern: string, action: string) => boolean,
): boolean | undefined {
  if (s.Action) return s.Action.some((p) => matches(p, action));
  if (s.NotAction) return !s.NotAction.some((p) => matches(p, action));
  return undefined;
}

export const hasCondition = (s: PolicyStatement): boolean =>
  s.Condition !== undefined && Object.values(s.Condition).some((keys) => Object.keys(keys).length > 0);
