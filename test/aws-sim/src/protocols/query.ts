import type { AwsError } from "../aws-error.ts";

export const IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/";
export const STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/";

/** awsQuery form parameters with helpers for `X.member.N` lists. */
export class QueryParams {
  constructor(readonly raw: URLSearchParams) {}
  get(name: string): string | undefined {
    const v = this.raw.get(name);
    return v === null ? undefined : v;
  }
  list(name: string): string[] {
    const out: string[] = [];
    for (let i = 1; ; i++) {
      const v = this.raw.get(`${name}.member.${i}`);
      if (v === null) return out;
      out.push(v);
    }
  }
  structList(name: string, fields: string[]): Array<Record<string, string>> {
    const out: Array<Record<string, string>> = [];
    for (let i = 1; ; i++) {
      const rec: Record<string, string> = {};
      let any = false;
      for (const f of fields) {
        const v = this.raw.get(`${name}.member.${i}.${f}`);
        if (v !== null) {
          rec[f] = v;
          any = true;
        }
      }
      if (!any) return out;
      out.push(rec);
    }
  }
}

export type XmlValue =
  string | number | boolean | Date | null | undefined | XmlValue[] | { [k: string]: XmlValue };

export function escapeXml(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}
function ser(name: string, v: XmlValue, out: string[]): void {
  if (v === undefined || v === null) return;
  if (Array.isArray(v)) {
    if (v.length === 0) {
      out.push(`<${name}/>`);
      return;
    }
    out.push(`<${name}>`);
    for (const item of v) ser("member", item, out);
    out.push(`</${name}>`);
    return;
  }
  if (v instanceof Date) {
    out.push(`<${name}>${v.toISOString()}</${name}>`);
    return;
  }
  if (typeof v === "object") {
    out.push(`<${name}>`);
    for (const [k, c] of Object.entries(v)) ser(k, c, out);
    out.push(`</${name}>`);
    return;
  }
  out.push(`<${name}>${escapeXml(String(v))}</${name}>`);
}

/** `<OpResponse><OpResult>…</OpResult><ResponseMetadata>…</ResponseMetadata></OpResponse>`; result null = no output. */
export function querySuccess(
  op: string,
  ns: string,
  result: Record<string, XmlValue> | null,
  requestId: string,
): string {
  const out: string[] = [`<${op}Response xmlns="${ns}">`];
  if (result) ser(`${op}Result`, result, out);
  out.push(`<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${op}Response>`);
  return out.join("");
}
export function queryError(err: AwsError, ns: string, requestId: string): string {
  const type = err.status >= 500 ? "Receiver" : "Sender";
  return `<ErrorResponse xmlns="${ns}"><Error><Type>${type}</Type><Code>${escapeXml(err.code)}</Code><Message>${escapeXml(err.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}
/** IAM emits policy documents URL-encoded (RFC 3986). */
export const encodePolicy = (doc: string): string =>
  encodeURIComponent(doc).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
