/**
 * Secrets never leave: connection strings, SAS tokens, keys and webhook URLs are cut out of
 * every error body, log line and stored field. Two layers: the values the app knows are
 * secret (registered when the settings are read), and the shapes secrets have wherever they
 * come from (an SDK error quoting a URL, a probe error quoting a redirect).
 */

export const REDACTED = "[redacted]";

const known = new Set<string>();

/** Remembers setting values that must never appear in output (connection strings, webhook URLs, secrets). */
export function registerSecrets(...values: ReadonlyArray<string | undefined>): void {
  for (const value of values) {
    if (value === undefined || value.length < 8) continue;
    known.add(value);
    // A URL may be quoted without its query, or with its query only: both parts are secret.
    const q = value.indexOf("?");
    if (q > 0 && /^https?:\/\//i.test(value)) {
      if (value.length - q > 8) known.add(value.slice(q + 1));
    }
  }
}

/** For tests: forget the registered values. */
export function clearRegisteredSecrets(): void {
  known.clear();
}

/** Names of query parameters that carry a signature, a function key or a token (SAS sig, ?code=, ...). */
const SECRET_QUERY_NAMES = "sig|signature|code|key|token|access_token|id_token|client_secret|secret|password|pwd|api[-_]?key|x-functions-key";

/** True for a query parameter name that carries a secret. */
export function isSecretQueryName(name: string): boolean {
  return new RegExp(`^(?:${SECRET_QUERY_NAMES})$`, "i").test(name);
}

const SHAPES: ReadonlyArray<[RegExp, string]> = [
  // Connection string parts: AccountKey=..., SharedAccessSignature=..., SharedAccessKey=..., Password=...
  [/\b(AccountKey|SharedAccessSignature|SharedAccessKey|SharedAccessKeyName|Password|Pwd|ClientSecret)\s*=\s*[^;\s"']+/gi, `$1=${REDACTED}`],
  // Query parameters that carry a signature, a function key or a token (SAS sig, ?code=, ...).
  [new RegExp(`([?&;](?:${SECRET_QUERY_NAMES})=)[^&#\\s"'()<>]+`, "gi"), `$1${REDACTED}`],
  // Credentials in a URL: scheme://user:password@host
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@"']+@/gi, `$1${REDACTED}@`],
  // Authorization headers and header-shaped keys.
  [/\b(Bearer|SharedKey|SharedKeyLite|Basic)\s+[A-Za-z0-9._~+/:=-]{8,}/g, `$1 ${REDACTED}`],
  [/\b(x-functions-key|x-ms-client-principal|authorization|webhook-signature)(["']?\s*[:=]\s*["']?)[^"',;\s}]+/gi, `$1$2${REDACTED}`],
  // Incoming-webhook URLs carry their secret in the path (Slack, Teams/Office 365, Discord).
  [/\b(https?:\/\/hooks\.slack\.com\/)[^\s"']+/gi, `$1${REDACTED}`],
  [/\b(https?:\/\/[a-z0-9.-]*webhook\.office\.com\/)[^\s"']+/gi, `$1${REDACTED}`],
  [/\b(https?:\/\/(?:[a-z0-9-]+\.)?discord(?:app)?\.com\/api\/webhooks\/)[^\s"']+/gi, `$1${REDACTED}`],
  // JSON web tokens and 512-bit base64 storage account keys standing alone.
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, REDACTED],
  [/(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=])/g, REDACTED],
];

/** The text with every registered secret and every secret-shaped substring replaced by [redacted]. */
export function redact(text: string): string {
  let out = text;
  // Longest first, so a connection string goes as a whole before its parts are looked at.
  for (const secret of [...known].sort((a, b) => b.length - a.length)) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  for (const [pattern, replacement] of SHAPES) out = out.replace(pattern, replacement);
  return out;
}

/** Redacts every string inside a JSON-like value (for error bodies and stored records). */
export function redactDeep<T>(value: T): T {
  if (typeof value === "string") return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T;
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)])) as T;
  }
  return value;
}
