import { createHash } from "node:crypto";
import { startLocalHost, type LocalHost } from "../../src/local/host";
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
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]!);
    expect([scripts.length, styles.length]).toEqual([1, 1]);
    const hash = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
    const csp = Object.fromEntries(res.headers.get("content-security-policy")!.split("; ").map((d) => [d.split(" ")[0], d.split(" ").slice(1).join(" ")]));
    expect(csp).toEqual({
      "default-src": "'none'",
      "script-src": hash(scripts[0]!),
      "style-src": hash(styles[0]!),
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
