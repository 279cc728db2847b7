/** `*` = any run of characters, `?` = exactly one; everything else literal. */
function globToRegExp(pattern: string, flags: string): RegExp {
  const body = pattern
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\/-]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`, `s${flags}`);
}

const globMatches = (pattern: string, value: string, ignoreCase = false): boolean =>
  globToRegExp(pattern, ignoreCase ? "i" : "").test(value);

/** IAM action matching: case-insensitive, `*` and `?` wildcards anywhere (`sts:Assume*`, `STS:assumerole`, `*`). */
export function actionMatches(pattern: string, action: string): boolean {
  return globMatches(pattern, action, true);
}
