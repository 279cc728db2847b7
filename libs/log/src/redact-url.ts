// JSON-escaped characters (`\"`, `\\`) are allowed inside the matched parts because the same patterns run over
// serialized log lines, where stopping at an escaped quote would leak the rest of the password.
const USERINFO_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/(?:[^\s:/@"\\]|\\.)*:)((?:[^\s@/"\\]|\\.)+)@/gi;
const SECRET_QUERY_PARAM =
  /([?&](?:password|passwd|pwd|sslpassword|secret|token|access_token|auth_token)=)([^&#\s"\\]+)/gi;

/** The string logged in place of a secret. */
export const REDACTED = "[redacted]";

/**
 * Replaces the password of every `scheme://user:password@host` URL (and `password=`/`token=`-style query
 * parameters) in `text` with `[redacted]`, keeping everything else so the output still says where a service
 * connects. Works on a bare URL or on any text containing URLs.
 *
 * @example
 * redactUrl("postgres://app:hunter2@db:5432/grantline"); // "postgres://app:[redacted]@db:5432/grantline"
 */
export function redactUrl(text: string): string {
  if (!text.includes("://") && !text.includes("=")) return text;
  return text.replace(USERINFO_PASSWORD, `$1${REDACTED}@`).replace(SECRET_QUERY_PARAM, `$1${REDACTED}`);
}
