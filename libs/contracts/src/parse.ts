import type { z } from "zod";
import { SchemaError } from "./errors.ts";

/** Parses `value` with `schema`, turning failure into a `SchemaError` (a permanent error) that names each bad path. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new SchemaError(
    what,
    r.error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`),
  );
}
