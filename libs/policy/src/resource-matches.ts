const escape = (c: string): string => c.replace(/[.+^${}()|[\]\\/-]/g, "\\$&");

/**
 * The pattern as a regular expression under AWS's segment rule: `*` and `?` stay inside their colon-separated
 * segment, except that a `*` ending a segment "can expand to match beyond colon boundaries".
 */
function arnPattern(pattern: string): RegExp {
  let body = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? "";
    const next = pattern[i + 1];
    if (c === "*") body += next === undefined || next === ":" ? ".*" : "[^:]*";
    else if (c === "?") body += "[^:]";
    else body += escape(c);
  }
  return new RegExp(`^${body}$`, "s");
}

/**
 * IAM resource matching (aws-access-semantics §2, IAM reference_policies_elements_resource): case-sensitive;
 * `*`/`?` work inside ARN segments but not in the service segment; `*` spans `/`, and a `*` that ends a segment
 * may pass `:` (so `arn:aws:iam::*` covers every IAM ARN).
 */
export function resourceMatches(pattern: string, arn: string): boolean {
  if (pattern === "*") return true;
  // AWS rejects a wildcard naming the service: such a pattern matches nothing.
  const service = pattern.startsWith("arn:") ? pattern.split(":")[2] : undefined;
  if (service !== undefined && /[*?]/.test(service)) return false;
  return arnPattern(pattern).test(arn);
}
