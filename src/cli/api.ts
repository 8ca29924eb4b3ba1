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
  ) {
    super(message);
    this.name = "CliError";
  }
}

export interface ApiAnswer {
  readonly status: number;
  readonly body: any;
  /** The WWW-Authenticate header of a refusal: App Service Authentication names Bearer there. */
  readonly wwwAuthenticate?: string;
}

/** A bearer token as given to --token (without "Bearer "): one run of visible ASCII, as a JWT is, so it cannot break the header. */
export function bearerToken(token: string | undefined): string | undefined {
  if (token === undefined || token === "") return undefined;
  if (!/^[\x21-\x7e]+$/.test(token) || token.length > 16_384) throw new CliError("--token: not a bearer token (expected one run of visible characters, such as the accessToken of az account get-access-token)");
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

  async request(method: "GET" | "POST", path: string, body?: unknown): Promise<ApiAnswer> {
    const url = `${this.base}/${path}`;
    const headers: Record<string, string> = { accept: "application/json" };
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
      const cause = (err as Error).name === "TimeoutError" ? `no answer within ${this.timeoutMs / 1000} s` : String((err as { cause?: unknown }).cause ?? (err as Error).message);
      throw new CliError(`${method} ${this.base}/${path.split("?")[0]}: ${cause}`);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      throw new CliError(`${method} ${this.base}/${path.split("?")[0]}: HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`);
    }
    const wwwAuthenticate = response.headers.get("www-authenticate") ?? undefined;
    return { status: response.status, body: parsed, ...(wwwAuthenticate ? { wwwAuthenticate } : {}) };
  }

  /** Like request, but an HTTP error status becomes a CliError naming the app's error and message. */
  async expectOk(method: "GET" | "POST", path: string, body?: unknown): Promise<any> {
    const answer = await this.request(method, path, body);
    if (answer.status >= 400) {
      const b = answer.body as { error?: string; message?: string } | undefined;
      // Function keys are per function: a key that reads may be refused by the control routes.
      const hint =
        answer.status === 401 && /^\s*bearer\b/i.test(answer.wwwAuthenticate ?? "")
          ? this.token
            ? " (the app wants an Entra ID token and refused this one: expired, or for another audience? --token or FAILOVER_TOKEN)"
            : " (the app has Entra ID on and wants a bearer token: --token or FAILOVER_TOKEN)"
          : answer.status === 401 || answer.status === 403
          ? method === "POST"
            ? " (this key may only read, or it is wrong: control routes need a key of their functions; --key or FAILOVER_KEY)"
            : " (is the function key right? --key or FAILOVER_KEY)"
          : "";
      const detail = [b?.error, b?.message].filter(Boolean).join(": ");
      throw new CliError(`${method} /api/${path.split("?")[0]}: HTTP ${answer.status}${detail ? ` ${detail}` : ""}${hint}`);
    }
    return answer.body;
  }
}
