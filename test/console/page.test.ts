import { createHash } from "node:crypto";
import { startLocalHost, type LocalHost } from "../../src/local/host/host";
import { testEnv } from "../helpers/env";

/** The console page as the app serves it: headers, a CSP that allows exactly its inline script and style, nothing from elsewhere. */

describe("GET /api/console", () => {
  let host: LocalHost;
  beforeAll(async () => {
    host = await startLocalHost({ env: testEnv(), timers: false });
  });
  afterAll(() => host.stop());

  test("is HTML under a strict Content-Security-Policy whose hashes are those of its one script and one style", async () => {
    const res = await fetch(`${host.url}/api/console?code=abc`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
    const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]);
    expect([scripts.length, styles.length]).toEqual([1, 1]);
    const hash = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
    const csp = Object.fromEntries(
      res.headers
        .get("content-security-policy")!
        .split("; ")
        .map((d) => [d.split(" ")[0], d.split(" ").slice(1).join(" ")]),
    );
    expect(csp).toEqual({
      "default-src": "'none'",
      "script-src": hash(scripts[0]),
      "style-src": hash(styles[0]),
      "connect-src": "'self'",
      "img-src": "'none'",
      "base-uri": "'none'",
      "form-action": "'none'",
      "frame-ancestors": "'none'",
    });
    // Nothing loaded from anywhere: no src or href attributes, no URL in the page.
    expect(html).not.toMatch(/\s(src|href)=/i);
    expect(html).not.toMatch(/https?:\/\//);
  });

  test("GET /api/groups before any group exists (no table yet) lists no groups; it is not a storage failure", async () => {
    const res = await fetch(`${host.url}/api/groups`);
    const body = (await res.json()) as { groups?: unknown[]; error?: string };
    // A fresh account: the state table does not exist yet, so there are no groups to show.
    expect([res.status, body]).toEqual([200, expect.objectContaining({ groups: [] })]);
  });
});

/** What the console may offer the caller: GET /api/groups says it, computed in the core from the caller's identity. */
describe("GET /api/groups: the caller's rights", () => {
  let host: LocalHost;
  const principal = (roles: string[]) =>
    Buffer.from(JSON.stringify({ auth_typ: "aad", name_typ: "name", claims: [{ typ: "name", val: "viewer@contoso.example" }, ...roles.map((val) => ({ typ: "roles", val }))] })).toString("base64");
  const as = (roles: string[]) => ({ "x-ms-client-principal": principal(roles), "content-type": "application/json" });
  const groups = async (roles: string[]) => (await (await fetch(`${host.url}/api/groups`, { headers: as(roles) })).json()) as { caller: Record<string, unknown> };

  afterEach(() => host.stop());

  test("with App Service Authentication on: a reader is told it may not operate, and why; its action is a 403 naming the missing role; an operator may", async () => {
    // The platform strips client-sent principal headers and sets its own; WEBSITE_AUTH_ENABLED says it does.
    host = await startLocalHost({ env: testEnv({ WEBSITE_AUTH_ENABLED: "true", PRIMARY_ENDPOINT: "http://127.0.0.1:9/p", SECONDARY_ENDPOINT: "http://127.0.0.1:9/s" }), timers: false });
    expect((await fetch(`${host.url}/api/init`, { method: "POST", headers: as(["operator"]) })).status).toBe(201);
    expect((await groups(["reader"])).caller).toEqual({
      actor: "viewer@contoso.example",
      decided_by: "app_roles",
      can_operate: false,
      reason: "viewer@contoso.example lacks the operator app role (has reader)",
    });
    expect((await groups(["operator"])).caller).toMatchObject({ decided_by: "app_roles", can_operate: true });
    const refused = await fetch(`${host.url}/api/pause`, { method: "POST", headers: as(["reader"]), body: JSON.stringify({ reason: "try" }) });
    expect([refused.status, await refused.json()]).toEqual([403, { error: "forbidden", message: "viewer@contoso.example lacks the operator app role (has reader)" }]);
  });

  test("with function keys: the key of each route decides when it is called, so as far as the app knows the caller may act", async () => {
    host = await startLocalHost({ env: testEnv(), timers: false });
    const body = (await (await fetch(`${host.url}/api/groups`)).json()) as { caller: Record<string, unknown> };
    expect(body.caller).toMatchObject({ actor: "function key", decided_by: "function_key", can_operate: true });
  });
});
