import { randomBytes } from "node:crypto";
import type { Answer, ArmRequest } from "./armResources";

/**
 * The App Configuration data-plane operations the switch uses (key-values, api-version
 * 2023-11-01 and later): GET /kv/{key}?label= and PUT /kv/{key}?label= with If-Match /
 * If-None-Match (412 when the condition fails). ETags travel quoted in headers and unquoted in
 * the body, as the service does. Data actions are checked against the store's role assignments.
 */

export interface KeyValue {
  key: string;
  label: string | null;
  value: string;
  content_type: string;
  etag: string;
  last_modified: string;
  tags: Record<string, string>;
  locked: boolean;
}

const KV_TYPE = "application/vnd.microsoft.appconfig.kv+json; charset=utf-8";

function problem(status: number, title: string, detail: string): Answer {
  return {
    status,
    body: { type: `https://azconfig.io/errors/${title.toLowerCase().replace(/\s+/g, "-")}`, title, detail, status },
    headers: { "content-type": "application/problem+json; charset=utf-8" },
  };
}

function unquote(etag: string): string {
  return etag.replace(/^W\//, "").replace(/^"(.*)"$/, "$1");
}

export function kvKey(key: string, label: string | null): string {
  return `${key}\n${label ?? ""}`;
}

export function handleAppConfiguration(request: ArmRequest, store: Map<string, KeyValue>, authorize: (action: string) => Answer | undefined): Answer {
  if (!request.query.get("api-version")) return problem(400, "Invalid Request", "The api-version query parameter is required.");
  const key = request.path.slice("/kv/".length);
  if (!key) return problem(400, "Invalid Request", "The key is empty.");
  const labelParam = request.query.get("label");
  const label = labelParam === null || labelParam === "\0" || labelParam === "%00" ? null : labelParam;
  const id = kvKey(key, label);
  const existing = store.get(id);
  const read = request.method === "GET" || request.method === "HEAD";
  const denied = authorize(`Microsoft.AppConfiguration/configurationStores/keyValues/${read ? "read" : "write"}`);
  if (denied) return denied;
  const ifMatch = request.headers["if-match"];
  const ifNoneMatch = request.headers["if-none-match"];
  if (read) {
    if (!existing)
      return { status: 404, headers: { "content-type": "application/problem+json; charset=utf-8" }, body: { type: "https://azconfig.io/errors/key-not-found", title: "Key not found", status: 404 } };
    if (ifNoneMatch && unquote(ifNoneMatch) === existing.etag) return { status: 304, headers: { etag: `"${existing.etag}"` } };
    return { status: 200, body: existing, headers: { "content-type": KV_TYPE, etag: `"${existing.etag}"`, "last-modified": new Date(existing.last_modified).toUTCString() } };
  }
  if (request.method !== "PUT") return problem(405, "Method Not Allowed", `${request.method} is not supported here by the stand-in.`);
  if (ifMatch !== undefined && (ifMatch === "*" ? !existing : unquote(ifMatch) !== existing?.etag))
    return problem(412, "Precondition Failed", "The If-Match condition was not satisfied: the key-value has changed.");
  if (ifNoneMatch === "*" && existing) return problem(412, "Precondition Failed", "The key-value already exists and If-None-Match '*' was given.");
  if (existing?.locked) return problem(409, "Key Locked", `The key '${key}' is read-only.`);
  const body = (request.body ?? {}) as { value?: unknown; content_type?: unknown; tags?: unknown };
  if (body.value !== undefined && body.value !== null && typeof body.value !== "string") return problem(400, "Invalid Request", "value must be a string.");
  const kv: KeyValue = {
    key,
    label,
    value: typeof body.value === "string" ? body.value : "",
    content_type: typeof body.content_type === "string" ? body.content_type : "",
    etag: randomBytes(16).toString("hex"),
    last_modified: new Date().toISOString(),
    tags: (body.tags && typeof body.tags === "object" ? body.tags : {}) as Record<string, string>,
    locked: false,
  };
  store.set(id, kv);
  return { status: 200, body: kv, headers: { "content-type": KV_TYPE, etag: `"${kv.etag}"`, "last-modified": new Date(kv.last_modified).toUTCString() } };
}
