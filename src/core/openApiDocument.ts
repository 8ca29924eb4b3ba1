import { z } from "zod";
import { auditEntrySchema, malformedAuditEntrySchema } from "./auditEntry";
import { HTTP_ROUTES, MAX_BODY_BYTES, MAX_JSON_DEPTH, errorBodySchema, type HttpRoute } from "./httpRoutes";
import { idempotencyKeySchema } from "./idempotency";
import { OPERATOR_ROLE, READER_ROLE } from "./identity";
import { controlResponseSchema, healthCheckResponseSchema, planResponseSchema, readinessResponseSchema, retrySwitchResponseSchema, switchTargetResponseSchema } from "./operations";
import { instanceInfoSchema } from "./orchestrationContract";
import { groupOverviewSchema } from "./overview";
import { stateSchema } from "./state";
import { validationIssueSchema } from "./validation";

/**
 * The OpenAPI 3.1 document of the HTTP API, built from the route contract (httpRoutes.ts) with
 * zod's own JSON Schema output: request bodies and query parameters as the routes parse them
 * (zod's "input" side: defaults optional, preprocessing seen through), answers as the app sends
 * them ("output" side). Served at GET /api/openapi.json and committed as docs/openapi.json.
 */

type Json = Record<string, unknown>;

export const OPENAPI_VERSION = "3.1.0";
const API_VERSION = "1";

/** Schemas shared by several answers, named in components/schemas after the type they define. */
const NAMED_ANSWERS: ReadonlyArray<readonly [z.ZodType, string]> = [
  [validationIssueSchema, "ValidationIssue"],
  [stateSchema, "FailoverState"],
  [auditEntrySchema, "AuditEntry"],
  [malformedAuditEntrySchema, "MalformedAuditEntry"],
  [groupOverviewSchema, "GroupOverview"],
  [instanceInfoSchema, "InstanceInfo"],
  [healthCheckResponseSchema, "HealthCheckResponse"],
  [switchTargetResponseSchema, "SwitchTargetResponse"],
  [controlResponseSchema, "ControlResponse"],
  [retrySwitchResponseSchema, "RetrySwitchResponse"],
  [readinessResponseSchema, "ReadinessResponse"],
  [planResponseSchema, "PlanResponse"],
];

const ROLES_OF = { read: [READER_ROLE, OPERATOR_ROLE], operate: [OPERATOR_ROLE], none: [] } as const;

function pascal(path: string): string {
  return path
    .split(/[^A-Za-z0-9]+/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");
}

/** The operation's name: its own where several methods share a path, else the path. */
const nameOf = (route: HttpRoute) => route.operation ?? route.path;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** JSON Schema without the keys a component or a parameter does not carry. */
function bare(schema: Json): Json {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
}

/** Every named schema of one side (input: what clients send; output: what the app answers), cross-referenced by $ref. */
function components(named: ReadonlyMap<z.ZodType, string>, io: "input" | "output"): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [schema, id] of named) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { io, target: "draft-2020-12", uri: (id) => ref(id).$ref });
  return Object.fromEntries(Object.entries(schemas).map(([id, schema]) => [id, bare(schema as Json)]));
}

function queryParameters(route: HttpRoute): Json[] {
  return Object.entries(route.query.shape).map(([name, schema]) => {
    const { description, ...json } = bare(z.toJSONSchema(schema as z.ZodType, { io: "input", target: "draft-2020-12" }));
    return { name, in: "query", required: !(schema as z.ZodType).safeParse(undefined).success, ...(description ? { description } : {}), schema: json };
  });
}

function rightText(route: HttpRoute): string {
  if (route.right === "none") return "The app checks no right itself (the function key still applies).";
  return `Right: ${route.right}. With App Service Authentication on, the caller needs the app role ${ROLES_OF[route.right].join(" or ")} (else 403 forbidden); without it, a function key of this function decides.`;
}

function queryText(route: HttpRoute): string {
  const names = Object.keys(route.query.shape);
  if (!route.strictQuery) return `The server reads no query parameter and refuses none; the page reads ${names.map((n) => `\`${n}\``).join(", ")} and \`code\`.`;
  return `Query parameters other than ${names.length > 0 ? names.map((n) => `\`${n}\``).join(", ") + " and " : ""}\`code\` (the function key) are refused with a 400 naming them, and so is a parameter given more than once.`;
}

function operation(route: HttpRoute, answerName: (route: HttpRoute, status: number) => string): Json {
  const responses: Record<string, Json> = {};
  for (const [status, answer] of Object.entries(route.answers)) {
    responses[status] = {
      description: answer.description,
      ...(answer.headers ? { headers: Object.fromEntries(Object.entries(answer.headers).map(([name, description]) => [name, { description, schema: { type: "string" } }])) } : {}),
      content: answer.html ? { "text/html": { schema: { type: "string" } } } : { "application/json": { schema: ref(answerName(route, Number(status))) } },
    };
  }
  for (const status of [401, ...route.errors]) responses[String(status)] = { $ref: `#/components/responses/Error${status}` };
  return {
    operationId: nameOf(route).replace(/\W/g, "_"),
    summary: route.summary,
    description: [route.description, queryText(route), rightText(route)].join("\n\n"),
    "x-app-roles": ROLES_OF[route.right],
    parameters: [
      ...queryParameters(route),
      ...(route.idempotencyKey
        ? [
            {
              name: "Idempotency-Key",
              in: "header",
              required: false,
              description: "Retry-safe: a repeat with the same key and body within a day answers the first answer and changes nothing; the same key with another body is a 400.",
              schema: bare(z.toJSONSchema(idempotencyKeySchema)),
            },
          ]
        : []),
      ...(route.ifMatch
        ? [
            {
              name: "If-Match",
              in: "header",
              required: false,
              description: "The ETag a GET answered: the change is made only if the row did not change since (else 412); `*` or absent: whatever the row.",
              schema: { type: "string" },
            },
          ]
        : []),
    ],
    ...(route.body
      ? {
          requestBody: {
            required: false,
            description: `JSON, all fields optional (an empty body is {}); at most ${MAX_BODY_BYTES / 1024} KiB and ${MAX_JSON_DEPTH} levels of nesting.`,
            content: { "application/json": { schema: ref(`${pascal(nameOf(route))}Request`) } },
          },
        }
      : {}),
    responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b))),
  };
}

const ERROR_TEXT: Readonly<Record<number, string>> = {
  401: "Refused by the platform before the app runs: no or a wrong function key, or (App Service Authentication on) no valid bearer token. No JSON body.",
  400: "invalid_request: a query parameter, header or body field is wrong; `issues` names each.",
  403: "forbidden: App Service Authentication is on and the caller lacks the app role.",
  404: "state_not_found: the group has no row.",
  409: "conflict: the row kept changing under 5 write attempts in a row, a request with the same Idempotency-Key is still running, or (approve, reject) the proposal named is not the group's current one.",
  412: "precondition_failed: the row changed since the caller read it (If-Match named another ETag): read again and decide again.",
  413: `too_large: a body over ${MAX_BODY_BYTES / 1024} KiB.`,
  500: "malformed_state (the row), invalid_config (an app setting; both name the field) or internal_error.",
  503: "storage_unavailable: Table storage did not answer in time.",
};

function build(): Json {
  // Answers: the shared schemas by their type's name, each route's own by the route's ("StatusAnswer"), errors by status.
  const answers = new Map<z.ZodType, string>(NAMED_ANSWERS);
  const requests = new Map<z.ZodType, string>();
  const errorStatuses = [...new Set(HTTP_ROUTES.flatMap((r) => r.errors))].sort((a, b) => a - b);
  for (const status of errorStatuses) answers.set(errorBodySchema(status), `Error${status}`);
  for (const route of HTTP_ROUTES) {
    for (const answer of Object.values(route.answers)) if (answer.json && !answers.has(answer.json)) answers.set(answer.json, `${pascal(nameOf(route))}Answer`);
    if (route.body) requests.set(route.body, `${pascal(nameOf(route))}Request`);
  }
  const answerName = (route: HttpRoute, status: number) => answers.get(route.answers[status].json!)!;
  const paths: Record<string, Json> = {};
  for (const route of HTTP_ROUTES) paths[`/api/${route.path}`] = { ...paths[`/api/${route.path}`], [route.method.toLowerCase()]: operation(route, answerName) };
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: "Azure failover orchestrator",
      version: API_VERSION,
      description:
        "Health-checks a primary/secondary pair per failover group and fails over; one Azure Table row per group is the source of truth. Every route is under /api. `group` defaults to the FAILOVER_GROUP setting. Errors answer `{ error, message, issues }`: `issues` lists each problem as `{ path, message }`, and `message` is the same list as text.",
    },
    security: [{ functionKey: [] }, { functionKeyHeader: [] }, { functionKey: [], entraId: [] }, { functionKeyHeader: [], entraId: [] }],
    paths,
    components: {
      securitySchemes: {
        functionKey: { type: "apiKey", in: "query", name: "code", description: "A function key (every function has authLevel function); per-function keys separate readers from operators." },
        functionKeyHeader: { type: "apiKey", in: "header", name: "x-functions-key", description: "The same function key, as a header." },
        entraId: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description:
            "App Service Authentication (Entra ID), when the deployment turns it on: every request also needs a bearer token issued by the tenant for the app registration (the platform answers 401 without one), and the app checks the principal's app roles (reader reads; operator reads and operates). Off by default: then only the function key applies.",
        },
      },
      responses: {
        Error401: { description: ERROR_TEXT[401] },
        ...Object.fromEntries(errorStatuses.map((s) => [`Error${s}`, { description: ERROR_TEXT[s], content: { "application/json": { schema: ref(`Error${s}`) } } }])),
      },
      schemas: { ...components(answers, "output"), ...components(requests, "input") },
    },
  };
}

let built: Json | undefined;

/** The document (built once per process). */
export function openApiDocument(): Json {
  built ??= build();
  return built;
}
