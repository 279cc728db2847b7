import type pg from "pg";

export interface PrepareOptions {
  /** Statements prepared on one connection at most; 0 leaves every statement unnamed. */
  max: number;
  /** Runs of the same text on the connection before it is prepared. @default 2 */
  after?: number;
}

// Postgres refuses to run a prepared statement whose result columns changed under it (a migration added a column
// to a `SELECT *`): "cached plan must not change result type". That text is run unnamed from then on.
const RESULT_TYPE_CHANGED = "0A000";

/**
 * Makes `client` run the statements it repeats as named prepared statements. node-postgres sends every
 * parameterised query as an unnamed statement, which Postgres parses and plans again each time: in a large
 * first sync the writer's handful of statements were parsed and planned ~55,000 times, and planning alone was a
 * quarter of Postgres's CPU (the scope sweep's plan cost seven times its execution). Named, a statement is parsed
 * once per connection and Postgres's plan cache decides between custom and generic plans as it does for PREPARE
 * (an ANALYZE of a table it reads invalidates its plans, so the writer's load ANALYZE re-plans them).
 *
 * Only texts seen `after` times are named, at most `max` per connection — a statement built with a varying
 * number of parameters cannot grow the connection's (and the server's) statement list without bound. A
 * connection pooler in transaction mode (PgBouncer before 1.21) cannot keep a statement across transactions:
 * there `max` is 0 (`DATABASE_PREPARED_STATEMENTS=0`).
 */
export function prepareRepeatedStatements(client: pg.Client, o: PrepareOptions): void {
  if (o.max <= 0) return;
  const after = o.after ?? 2;
  const names = new Map<string, string>();
  const seen = new Map<string, number>();
  const refused = new Set<string>();
  // Never reused, not even after a refusal drops a text: the server still holds the old name.
  let named = 0;
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;

  function nameFor(text: string): string | undefined {
    const name = names.get(text);
    if (name !== undefined || refused.has(text) || names.size >= o.max) return name;
    const runs = (seen.get(text) ?? 0) + 1;
    if (runs < after) {
      // One-off texts (ids spelled into the SQL, IN lists of every length) must not pile up either.
      if (seen.size >= o.max * 8) seen.clear();
      seen.set(text, runs);
      return undefined;
    }
    seen.delete(text);
    const fresh = `gl_${++named}`;
    names.set(text, fresh);
    return fresh;
  }

  (client as { query: unknown }).query = (...args: unknown[]): unknown => {
    const [text, values, callback] = args;
    // What kysely sends: (text, values). Anything else — a config object, a cursor, a callback — as it was.
    if (typeof text !== "string" || !Array.isArray(values) || values.length === 0 || callback !== undefined)
      return query(...args);
    const name = nameFor(text);
    if (name === undefined) return query(text, values);
    return (query({ name, text, values }) as Promise<unknown>).catch((err: unknown) => {
      if ((err as { code?: unknown }).code === RESULT_TYPE_CHANGED) {
        names.delete(text);
        refused.add(text);
      }
      throw err;
    });
  };
}
