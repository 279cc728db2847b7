/** IAM returns policy documents URL-encoded; aws-sim's export and some SDK paths give them plain. */
export function decodePolicy(doc: string | null): string | null {
  if (doc === null) return null;
  if (doc.trimStart().startsWith("{")) return doc;
  try {
    return decodeURIComponent(doc);
  } catch {
    return doc;
  }
}
