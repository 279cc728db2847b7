import { globMatches } from "./action-matches.ts";

/** arn:partition:service:region:account:resource — the resource part keeps any further colons. */
function arnSegments(s: string): string[] {
  const parts = s.split(":");
  return [...parts.slice(0, 5), ...(parts.length > 5 ? [parts.slice(5).join(":")] : [])];
}

/**
 * IAM resource matching (aws-access-semantics §2): case-sensitive; `*`/`?` work inside each ARN segment but not
 * in the service segment; `*` spans `/` (and the colons inside the resource part), and a pattern's trailing `*`
 * may run past `:` into the segments it does not spell out (`arn:aws:iam::*` covers every IAM ARN).
 */
export function resourceMatches(pattern: string, arn: string): boolean {
  if (pattern === "*") return true;
  if (!pattern.startsWith("arn:") || !arn.startsWith("arn:")) return globMatches(pattern, arn);
  const p = arnSegments(pattern);
  const a = arnSegments(arn);
  for (let i = 0; i < p.length; i++) {
    const seg = p[i] ?? "";
    const last = i === p.length - 1;
    if (last && p.length < a.length) {
      // Fewer segments than the ARN: only a trailing `*` can stand for the rest.
      return seg.endsWith("*") && globMatches(seg, a.slice(i).join(":"));
    }
    const target = a[i];
    if (target === undefined) return false;
    // The service segment takes no wildcards: AWS reads it literally.
    if (i === 2 ? seg !== target : !globMatches(seg, target)) return false;
  }
  return p.length === a.length;
}
