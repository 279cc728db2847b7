import { AwsError } from "./aws-error.ts";

export interface Page<T> {
  items: T[];
  next?: string;
}

/** Opaque offset token: base64url of `{o,k}` where k fingerprints the request (a token must come with the same filters). */
export function encodeToken(offset: number, key: string): string {
  return Buffer.from(JSON.stringify({ o: offset, k: key })).toString("base64url");
}
export function decodeToken(token: string | undefined, key: string, err: () => AwsError): number {
  if (!token) return 0;
  try {
    const v = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { o?: unknown; k?: unknown };
    if (typeof v.o !== "number" || v.o < 0 || v.k !== key) throw err();
    return v.o;
  } catch (e) {
    if (e instanceof AwsError) throw e;
    throw err();
  }
}
export function paginate<T>(
  all: readonly T[],
  token: string | undefined,
  size: number,
  key: string,
  err: () => AwsError,
): Page<T> {
  const start = decodeToken(token, key, err);
  const items = all.slice(start, start + size);
  const end = start + items.length;
  return { items, next: end < all.length ? encodeToken(end, key) : undefined };
}
