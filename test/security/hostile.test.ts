import { TableClient } from "@azure/data-tables";
import { startLocalHost, type LocalHost } from "../../src/local/host/host";
import { backendPair } from "../helpers/backends";
import { storageConnectionString, testEnv } from "../helpers/env";

/**
 * The hostile-input suite: classes of bad input over real HTTP on the local host, across every
 * route. Each must answer a 4xx JSON error that names the field, write nothing to either
 * table, and log nothing at error level. It prints how many classes there are and how many
 * were handled cleanly.
 */

interface HostileCase {
  readonly name: string;
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly body?: string;
  readonly headers?: Record<string, string>;
  /** Text the error must contain: the field (or header, or parameter) it names. */
  readonly names: string;
}

const json = (value: unknown) => JSON.stringify(value);
const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
const longText = (n: number) => "x".repeat(n);

function cases(selfUrl: string, primaryUrl: string): HostileCase[] {
  const post = (name: string, path: string, body: string | undefined, names: string, headers?: Record<string, string>): HostileCase => ({
    name,
    method: "POST",
    path,
    ...(body !== undefined ? { body } : {}),
    ...(headers ? { headers } : {}),
    names,
  });
  const get = (name: string, path: string, names: string, headers?: Record<string, string>): HostileCase => ({ name, method: "GET", path, names, ...(headers ? { headers } : {}) });
  return [
    // Bodies
    post("malformed JSON", "/api/pause", "{not json", "body"),
    post("a JSON array as the body", "/api/resume", "[]", "body"),
    post("JSON null as the body", "/api/pause", "null", "body"),
    post("a string as the body", "/api/do_failover", json("force"), "body"),
    post("invalid UTF-8 bytes", "/api/pause", "\u00ff\u00fe{", "body"),
    post('wrong type (force: "yes")', "/api/do_failover", json({ force: "yes", expected_from: "primary" }), "force"),
    post("unknown body field", "/api/failback", json({ forse: true }), "forse"),
    post("prototype key in the body", "/api/resume", '{"__proto__":{"admin":true}}', "__proto__"),
    post("constructor key in the body", "/api/pause", '{"constructor":{"prototype":{}}}', "constructor"),
    post("10 MB body", "/api/pause", json({ reason: longText(10 * 1024 * 1024) }), "body"),
    post("deeply nested JSON in an init knob", "/api/init", `{"group":"deep","primary_endpoint":"${primaryUrl}","secondary_endpoint":"${primaryUrl}2","failure_threshold":${nested(5000)}}`, "body"),
    post("reason longer than 500 characters", "/api/pause", json({ reason: longText(501) }), "reason"),
    post("reason of the wrong type", "/api/resume", json({ reason: ["a"] }), "reason"),
    post("force without expected_from", "/api/do_failover", json({ force: true }), "expected_from"),
    post("expected_from not a target", "/api/do_failover", json({ expected_from: "tertiary" }), "expected_from"),
    // Time values
    post("pause until in the past", "/api/pause", json({ until: "2001-01-01T00:00:00Z" }), "until"),
    post("pause until year 9999", "/api/pause", json({ until: "9999-12-31T23:59:59Z" }), "until"),
    post("pause until beyond the maximum pause", "/api/pause", json({ until: new Date(Date.now() + 30 * 86400_000).toISOString() }), "until"),
    post("pause until a US-style date", "/api/pause", json({ until: "12/01/2030" }), "until"),
    post("pause until a bare number", "/api/pause", json({ until: 4102444800 }), "until"),
    post("pause until with full-width digits", "/api/pause", json({ until: "２０３０-01-01T00:00:00Z" }), "until"),
    post("hold with no end", "/api/hold", json({ reason: "forever" }), "until"),
    post("hold until beyond 72 hours", "/api/hold", json({ until: new Date(Date.now() + 73 * 3600_000).toISOString(), reason: "long" }), "until"),
    post("hold until year 9999", "/api/hold", json({ until: "9999-12-31T23:59:59Z", reason: "long" }), "until"),
    post("hold without a reason", "/api/hold", json({ until: new Date(Date.now() + 3600_000).toISOString() }), "reason"),
    post("hold with a reason of control characters only", "/api/hold", json({ until: new Date(Date.now() + 3600_000).toISOString(), reason: "\u0001\u0002" }), "reason"),
    post("hold with a blank reason", "/api/hold", json({ until: new Date(Date.now() + 3600_000).toISOString(), reason: " \t " }), "reason"),
    post("hold with an owner field (the caller is the owner)", "/api/hold", json({ until: new Date(Date.now() + 3600_000).toISOString(), reason: "r", owner: "someone else" }), "owner"),
    post("release with an unknown field", "/api/release", json({ until: "2030-01-01T00:00:00Z" }), "until"),
    post("approve without a proposal_id", "/api/approve", json({ reason: "yes" }), "proposal_id"),
    post("approve a proposal_id of the wrong type", "/api/approve", json({ proposal_id: { $ne: null } }), "proposal_id"),
    post("approve a proposal_id longer than 64 characters", "/api/approve", json({ proposal_id: longText(65) }), "proposal_id"),
    post("approve when nothing is proposed", "/api/approve", json({ proposal_id: "failover-1" }), "no switch is proposed"),
    post("drill with dry_run as a string", "/api/drill", json({ dry_run: "yes" }), "dry_run"),
    post("drill with a plan in the body", "/api/drill", json({ plan: { steps: [] } }), "plan"),
    post("drill of a group with no switch plan", "/api/drill", json({ reason: "quarterly" }), "switch plan"),
    post("reject with a decided_by field (the caller decides)", "/api/reject", json({ proposal_id: "failover-1", decided_by: "someone else" }), "decided_by"),
    // Query strings
    post("misspelled query parameter (?Group=)", "/api/pause?Group=payments", "{}", "Group"),
    get("unknown query parameter on status", "/api/status?grop=payments", "grop"),
    get("repeated group parameter", "/api/status?group=state&group=payments", "group"),
    get("group with a path traversal", "/api/status?group=..%2F..%2Fstate", "group"),
    get("group with a newline", "/api/health_check?group=state%0A", "group"),
    get("group name of 64 characters", `/api/status?group=${"g".repeat(64)}`, "group"),
    get("unicode group name", "/api/status?group=p%C3%A4yments", "group"),
    get("status of an unknown group", "/api/status?group=unknown", "unknown"),
    get("manual check of an unknown group", "/api/health_check?group=unknown", "unknown"),
    post("start of an unknown group", "/api/start?group=unknown", undefined, "unknown"),
    get("history of an unknown group", "/api/history?group=unknown", "unknown"),
    get("history limit in exponent form", "/api/history?limit=1e1", "limit"),
    get("history limit zero", "/api/history?limit=0", "limit"),
    get("history limit above 100", "/api/history?limit=101", "limit"),
    get("history limit with a space", "/api/history?limit=%205", "limit"),
    get("history limit repeated", "/api/history?limit=1&limit=2", "limit"),
    get("made-up continuation token", "/api/history?continuation=bm90LWEtdG9rZW4", "continuation"),
    get("continuation token of the wrong shape", `/api/history?continuation=${Buffer.from(json({ nextPartitionKey: 1, evil: "x" })).toString("base64url")}`, "continuation"),
    get("continuation token of 10 kB", `/api/history?continuation=${longText(10_000)}`, "continuation"),
    // init
    post("init with the group in the query and another in the body", "/api/init?group=x", json({ group: "y" }), "group"),
    post("init endpoint that is not a URL", "/api/init", json({ group: "g1", primary_endpoint: "not a url", secondary_endpoint: primaryUrl }), "primary_endpoint"),
    post("init endpoint of another scheme", "/api/init", json({ group: "g1", primary_endpoint: "ftp://example.test/health", secondary_endpoint: primaryUrl }), "primary_endpoint"),
    post(
      "init endpoint longer than 2048 characters",
      "/api/init",
      json({ group: "g1", primary_endpoint: `https://example.test/${longText(2100)}`, secondary_endpoint: primaryUrl }),
      "primary_endpoint",
    ),
    post("init endpoint with user:password@", "/api/init", json({ group: "g1", primary_endpoint: "https://admin:hunter2@example.test/health", secondary_endpoint: primaryUrl }), "primary_endpoint"),
    post("init primary equal to secondary", "/api/init", json({ group: "g1", primary_endpoint: primaryUrl, secondary_endpoint: primaryUrl }), "secondary_endpoint"),
    post("init endpoint on the metadata address", "/api/init", json({ group: "g1", primary_endpoint: "http://169.254.169.254/metadata/instance", secondary_endpoint: primaryUrl }), "primary_endpoint"),
    post("init endpoint on the wire server", "/api/init", json({ group: "g1", primary_endpoint: primaryUrl, secondary_endpoint: "http://168.63.129.16/" }), "secondary_endpoint"),
    post("init endpoint on the app itself", "/api/init", json({ group: "g1", primary_endpoint: `${selfUrl}/api/health_check`, secondary_endpoint: primaryUrl }), "primary_endpoint"),
    post("init knob out of range", "/api/init", json({ group: "g1", primary_endpoint: primaryUrl, secondary_endpoint: `${primaryUrl}?b`, failure_threshold: 0 }), "failure_threshold"),
    post("init knob of the wrong type", "/api/init", json({ group: "g1", primary_endpoint: primaryUrl, secondary_endpoint: `${primaryUrl}?b`, cooldown_seconds: { a: 1 } }), "cooldown_seconds"),
    post("init one endpoint without the other", "/api/init", json({ group: "g1", primary_endpoint: primaryUrl }), "secondary_endpoint"),
    post("init beyond the group limit", "/api/init", json({ group: "fourth", primary_endpoint: primaryUrl, secondary_endpoint: `${primaryUrl}?b` }), "MAX_GROUPS"),
    // Headers
    post("Idempotency-Key longer than 200 characters", "/api/resume", "{}", "idempotency-key", { "idempotency-key": longText(201) }),
    post("Idempotency-Key with spaces and non-ASCII", "/api/resume", "{}", "idempotency-key", { "idempotency-key": "abc d\u00e9f" }),
    post("Idempotency-Key reused for another request", "/api/pause", json({ reason: "other" }), "idempotency-key", { "idempotency-key": "used-once" }),
  ];
}

describe("hostile input over HTTP on the local host", () => {
  const backends = backendPair();
  let host: LocalHost;
  let logs: string[];
  let tables: TableClient[];
  beforeAll(async () => {
    logs = [];
    const env = testEnv({ PRIMARY_ENDPOINT: backends.primary.url, SECONDARY_ENDPOINT: backends.secondary.url, MAX_GROUPS: "3", EGRESS_ALLOW_PRIVATE: "true" });
    tables = [env.FAILOVER_TABLE, env.FAILOVER_HISTORY_TABLE].map((name) => TableClient.fromConnectionString(storageConnectionString(), name, { allowInsecureConnection: true }));
    host = await startLocalHost({ env, timers: false, log: (m) => logs.push(m) });
    const setup = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
      const response = await fetch(`${host.url}${path}`, { method: "POST", body: json(body), headers: { "content-type": "application/json", ...headers } });
      if (response.status >= 300) throw new Error(`setup ${path} answered ${response.status}: ${await response.text()}`);
    };
    await setup("/api/init", {});
    await setup("/api/init", { group: "payments", primary_endpoint: backends.primary.url, secondary_endpoint: backends.secondary.url });
    await setup("/api/init", { group: "third", primary_endpoint: backends.primary.url, secondary_endpoint: backends.secondary.url });
    await setup("/api/pause", { reason: "first" }, { "idempotency-key": "used-once" });
  });
  afterAll(() => host.stop());

  async function snapshot(): Promise<string[]> {
    const rows: string[] = [];
    for (const table of tables) {
      for await (const e of table.listEntities()) rows.push(`${table.tableName}/${e.partitionKey}/${e.rowKey}@${e.etag}`);
    }
    return rows.sort();
  }

  test("every class answers a 4xx JSON error naming the field, writes nothing, logs no error", async () => {
    const all = cases(host.url, backends.primary.url);
    const problems: string[] = [];
    for (const c of all) {
      const before = await snapshot();
      logs.length = 0;
      const response = await fetch(`${host.url}${c.path}`, {
        method: c.method,
        headers: { "content-type": "application/json", ...c.headers },
        ...(c.body !== undefined ? { body: c.body } : {}),
      });
      const text = await response.text();
      let body: { error?: unknown; message?: unknown } | undefined;
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        body = undefined;
      }
      const wrong: string[] = [];
      if (response.status < 400 || response.status >= 500) wrong.push(`status ${response.status}`);
      if (!body || typeof body.error !== "string") wrong.push("not a JSON error");
      else if (!text.toLowerCase().includes(c.names.toLowerCase())) wrong.push(`does not name ${c.names}`);
      const after = await snapshot();
      if (after.join("\n") !== before.join("\n")) wrong.push("wrote to a table");
      const errors = logs.filter((l) => /\] error: /.test(l) || /^local host:/.test(l));
      if (errors.length > 0) wrong.push(`error log: ${errors[0].slice(0, 200)}`);
      if (wrong.length > 0) problems.push(`${c.name}: ${wrong.join("; ")} -> ${text.slice(0, 200)}`);
    }
    console.log(`hostile input: ${all.length} classes across ${new Set(all.map((c) => c.path.split("?")[0])).size} routes, ${all.length - problems.length} clean`);
    expect(problems).toEqual([]);
    expect(all.length).toBeGreaterThanOrEqual(40);
  }, 120_000);
});
