/**
 * The CLI's view of the app's HTTP API: a base URL (the app's origin), an optional function
 * key sent as x-functions-key, an optional Entra ID bearer token (for an app with App Service
 * Authentication on), and a timeout on every request. Errors say what was asked of which URL
 * and what came back, never the key or the token.
 */

export class CliError extends Error {
  constructor(
    message: string,
    /** 1: error; 2: refused by policy. */
    readonly exitCode: 1 | 2 = 1,
    /** What --json prints for it: the app's error code (or the CLI's), and the HTTP status when the app answered. */
    readonly code: string = "cli_error",
    readonly status?: number,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** Why a request got no answer, in words that say what to try. */
function unreachable(err: unknown, base: string, timeoutMs: number): { code: string; text: string } {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError") return { code: "timeout", text: `no answer within ${timeoutMs / 1000} s: is the app up? (--timeout waits longer)` };
  const cause = e.cause;
  switch (cause?.code) {
    case "ECONNREFUSED":
      return { code: "unreachable", text: `nothing listens there (connection refused): is the app running at ${base}? (--url or FAILOVER_URL)` };
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return { code: "unreachable", text: `the host ${new URL(base).hostname} is not known (DNS): check --url or FAILOVER_URL` };
    case "ECONNRESET":
    case "UND_ERR_SOCKET":
      return { code: "unreachable", text: "the connection was closed before an answer: is it the app's address, with the right http or https? (--url)" };
  }
  if (/bad port/i.test(String(cause ?? e.message)))
    return { code: "bad_port", text: `port ${new URL(base).port} is one that fetch never connects to (a "bad port"): use the app's port, such as 7071 (--url)` };
  if (cause?.code?.startsWith("ERR_TLS") || /certificate|SSL|TLS/i.test(String(cause?.message ?? ""))) return { code: "tls", text: `TLS: ${cause?.message ?? cause?.code}` };
  return { code: "unreachable", text: String(cause?.message ?? cause?.code ?? e.message) };
}

export type Method = "GET" | "POST" | "PUT" | "DELETE";

export interface ApiAnswer {
  readonly status: number;
  // The app's JSON answer, read by each command for the fields it prints (docs/openapi.json has their shapes).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
  /** The WWW-Authenticate header of a refusal: App Service Authentication names Bearer there. */
  readonly wwwAuthenticate?: string;
}

/** A bearer token as given to --token (without "Bearer "): one run of visible ASCII, as a JWT is, so it cannot break the header. */
export function bearerToken(token: string | undefined): string | undefined {
  if (token === undefined || token === "") return undefined;
  if (!/^[\x21-\x7e]+$/.test(token) || token.length > 16_384)
    throw new CliError("--token: not a bearer token (expected one run of visible characters, such as the accessToken of az account get-access-token)");
  return token;
}

/** The app's origin from a URL such as https://func-x.azurewebsites.net or http://127.0.0.1:7071/api/. */
export function apiBase(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`--url: not a URL: "${url}" (for example http://127.0.0.1:7071)`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new CliError(`--url: must be http or https (got "${url}")`);
  if (parsed.search || parsed.hash) throw new CliError(`--url: give the app's address without a query (the key goes in --key or FAILOVER_KEY)`);
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, "").replace(/\/api$/, "")}/api`;
}

export class ApiClient {
  constructor(
    readonly base: string,
    private readonly key: string | undefined,
    private readonly timeoutMs: number,
    private readonly token?: string,
  ) {}

  async request(method: Method, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<ApiAnswer> {
    const url = `${this.base}/${path}`;
    const headers: Record<string, string> = { accept: "application/json", ...extraHeaders };
    if (this.key) headers["x-functions-key"] = this.key;
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const why = unreachable(err, this.base, this.timeoutMs);
      throw new CliError(`${method} ${this.base}/${path.split("?")[0]}: ${why.text}`, 1, why.code);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      throw new CliError(`${method} ${this.base}/${path.split("?")[0]}: HTTP ${response.status}, not JSON: ${text.slice(0, 200)} (is --url the app's address?)`, 1, "not_json", response.status);
    }
    const wwwAuthenticate = response.headers.get("www-authenticate") ?? undefined;
    return { status: response.status, body: parsed, ...(wwwAuthenticate ? { wwwAuthenticate } : {}) };
  }

  /** Like request, but an HTTP error status becomes a CliError naming the app's error and message. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as ApiAnswer.body
  async expectOk(method: Method, path: string, body?: unknown, headers?: Record<string, string>): Promise<any> {
    const answer = await this.request(method, path, body, headers);
    if (answer.status >= 400) {
      const b = answer.body as { error?: string; message?: string } | undefined;
      // Function keys are per function: a key that reads may be refused by the control routes.
      const hint =
        answer.status === 401 && /^\s*bearer\b/i.test(answer.wwwAuthenticate ?? "")
          ? this.token
            ? " (the app wants an Entra ID token and refused this one: expired, or for another audience? --token or FAILOVER_TOKEN)"
            : " (the app has Entra ID on and wants a bearer token: --token or FAILOVER_TOKEN)"
          : answer.status === 401 || answer.status === 403
            ? method !== "GET"
              ? " (this key may only read, or it is wrong: control routes need a key of their functions; --key or FAILOVER_KEY)"
              : " (is the function key right? --key or FAILOVER_KEY)"
            : "";
      const detail = [b?.error, b?.message].filter(Boolean).join(": ");
      throw new CliError(`${method} /api/${path.split("?")[0]}: HTTP ${answer.status}${detail ? ` ${detail}` : ""}${hint}`, 1, b?.error ?? "http_error", answer.status);
    }
    return answer.body;
  }
}
