import { z } from "zod";
import { auditEntrySchema, malformedAuditEntrySchema } from "./auditEntry";
import { groupNameSchema, httpUrlSchema } from "./config";
import type { FailoverErrorCode } from "./errors";
import { callerRightsSchema, type Right } from "./identity";
import { policySchema, regionSchema } from "./knobs";
import {
  approvalResponseSchema,
  controlResponseSchema,
  drillResponseSchema,
  healthCheckResponseSchema,
  holdResponseSchema,
  planResponseSchema,
  readinessResponseSchema,
  retrySwitchResponseSchema,
  switchTargetResponseSchema,
} from "./operations";
import { instanceInfoSchema } from "./orchestrationContract";
import { groupOverviewSchema } from "./overview";
import { policyOverrideFields, stateSchema } from "./state";
import { switchPlan } from "./switch/plan";
import { validationIssueSchema } from "./validation";

/**
 * The HTTP API's contract, one entry per route: its method and path under /api, the right its
 * caller needs, its query parameters, its body and its answers, as zod schemas. The functions
 * parse each request with these schemas (src/functions) and the OpenAPI document is built from
 * them (openApiDocument.ts); no decision lives here.
 */

/** The status of each error the core raises; the body is `{ error, message, issues? }`. */
export const ERROR_STATUS: Readonly<Record<FailoverErrorCode, number>> = {
  invalid_request: 400,
  forbidden: 403,
  state_not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  too_large: 413,
  malformed_state: 500,
  invalid_config: 500,
  storage_unavailable: 503,
};

/** The code of a failure that is not one of the core's errors (a bug, an unexpected exception): a 500. */
export const INTERNAL_ERROR = "internal_error";

/** The body of an error answer of `status`: its codes, the message (`path: message; ...` for validation errors) and the issues as data. */
export function errorBodySchema(status: number) {
  const codes = [
    ...Object.entries(ERROR_STATUS)
      .filter(([, s]) => s === status)
      .map(([code]) => code),
    ...(status === 500 ? [INTERNAL_ERROR] : []),
  ];
  return z.object({
    error: z.enum(codes as [string, ...string[]]),
    message: z.string(),
    issues: z.array(validationIssueSchema).optional().describe("Each problem as data: the field, setting or parameter at fault and what is wrong with it."),
  });
}

/** Every body is at most this long and nests arrays and objects at most this deep. */
export const MAX_BODY_BYTES = 64 * 1024;
export const MAX_JSON_DEPTH = 16;

/** One answer of a route: a JSON body, or the console's HTML page. */
export interface RouteAnswer {
  readonly description: string;
  readonly json?: z.ZodType;
  readonly html?: true;
  /** Response headers it carries, by name: a description each. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface HttpRoute {
  /** The path under /api, as registered (`route` of app.http). */
  readonly path: string;
  readonly method: "GET" | "POST" | "PUT" | "DELETE";
  /** The operation's name (operationId, and the name of its request and answer schemas) where several methods share a path; else the path. */
  readonly operation?: string;
  /** The right the caller needs when App Service Authentication is on; `none`: no check by the app. */
  readonly right: Right | "none";
  readonly summary: string;
  readonly description: string;
  /** The query parameters the route takes (besides `code`); each one's schema is what the handler parses it with. */
  readonly query: z.ZodObject;
  /** Whether the route refuses unknown and repeated query parameters (every JSON route). */
  readonly strictQuery: boolean;
  /** The JSON body: all fields optional, an empty body is `{}`. */
  readonly body?: z.ZodType;
  /** The route takes an Idempotency-Key header. */
  readonly idempotencyKey?: true;
  /** The route takes an If-Match header: the change is refused (412) unless the row's ETag still matches. */
  readonly ifMatch?: true;
  /** The answers by status; errors are the statuses of ERROR_STATUS it can answer. */
  readonly answers: Readonly<Record<number, RouteAnswer>>;
  readonly errors: readonly number[];
}

/** Keeps each route's own types (its query and body schemas) for the handlers. */
function route<const R extends HttpRoute>(r: R): R {
  return r;
}

// Query parameters and body fields, each with the schema the handler parses it with.
const groupParam = groupNameSchema.optional().describe("The failover group; absent or empty: the default group (FAILOVER_GROUP).");
const groupQuery = z.object({ group: groupParam });
const noQuery = z.object({});
const reason = z.string().max(500, "must be at most 500 characters").optional().describe("Why, for the audit log and the notification (at most 500 characters; control characters are stripped).");
const force = z.boolean({ error: "must be true or false" }).optional();

/** `limit` is digits only: "1e1", " 5" or "5.0" are refused, not read as a number. */
const historyLimitSchema = z
  .string()
  .regex(/^\d{1,3}$/)
  .transform(Number)
  .pipe(z.number().int().min(1).max(100));

// Errors by kind of route: every JSON route can refuse its query (400), its caller (403) or fail
// on a bad app setting (500); a route on a group's row can find none (404), a malformed one (500)
// or no storage (503); a route that writes can meet a conflict (409); a route with a body can be
// sent one too large (413).
const READS_ROW = [400, 403, 404, 500, 503];
const WRITES_ROW = [400, 403, 404, 409, 413, 500, 503];
const WRITES_ROW_IF_MATCH = [400, 403, 404, 409, 412, 413, 500, 503];

const IDEMPOTENT_REPLAY = {
  "idempotent-replayed": "With an Idempotency-Key: `true` when this is the first answer to an earlier request with the same key and body (nothing was done again), else `false`.",
};

const switchAnswers = { 200: { description: "The switch, or why it was not done (`changed: false` with a `reason`).", json: switchTargetResponseSchema, headers: IDEMPOTENT_REPLAY } };
const controlAnswers = { 200: { description: "The group's pause state after the request.", json: controlResponseSchema, headers: IDEMPOTENT_REPLAY } };
const holdAnswers = { 200: { description: "The group's failback hold after the request.", json: holdResponseSchema, headers: IDEMPOTENT_REPLAY } };

export const healthCheckRoute = route({
  path: "health_check",
  method: "GET",
  right: "read",
  summary: "Probe the active endpoint now",
  description: "Probes the group's active endpoint and answers with the row's view. Writes nothing: only the loop's checks count (one probe in flight per group, shared by concurrent callers).",
  query: groupQuery,
  strictQuery: true,
  answers: { 200: { description: "The probe and the row's counters.", json: healthCheckResponseSchema } },
  errors: READS_ROW,
});

export const doFailoverRoute = route({
  path: "do_failover",
  method: "POST",
  right: "operate",
  summary: "Fail over",
  description:
    "Switches away from the active target (or `expected_from`), after checking the standby, unless the cooldown, a pause or an unhealthy standby refuses it. `force: true` is break-glass: it skips those checks and must name `expected_from`, so a retried request cannot switch back.",
  query: groupQuery,
  strictQuery: true,
  body: z.strictObject({
    force,
    expected_from: z.enum(["primary", "secondary"], { error: "must be primary or secondary" }).optional().describe("The target to move away from; required with force: true."),
    reason,
  }),
  idempotencyKey: true,
  answers: switchAnswers,
  errors: WRITES_ROW,
});

export const failbackRoute = route({
  path: "failback",
  method: "POST",
  right: "operate",
  summary: "Fail back to the primary",
  description: "Switches from the secondary back to the primary (verified healthy unless forced; the cooldown applies unless forced). `already_on_primary` when it is already active.",
  query: groupQuery,
  strictQuery: true,
  body: z.strictObject({ force, reason }),
  idempotencyKey: true,
  answers: switchAnswers,
  errors: WRITES_ROW,
});

export const pauseRoute = route({
  path: "pause",
  method: "POST",
  right: "operate",
  summary: "Pause automatic switching",
  description: "No automatic switch for the group, optionally until a time (in the future and at most MAX_PAUSE_SECONDS away); checks go on.",
  query: groupQuery,
  strictQuery: true,
  body: z.strictObject({
    until: z.iso.datetime({ offset: true, error: "must be an ISO 8601 time such as 2026-01-01T12:00:00Z" }).optional().describe("When the pause ends; absent: until resumed."),
    reason,
  }),
  idempotencyKey: true,
  answers: controlAnswers,
  errors: WRITES_ROW,
});

export const resumeRoute = route({
  path: "resume",
  method: "POST",
  right: "operate",
  summary: "Resume automatic switching",
  description: "Automatic failover is back on for the group.",
  query: groupQuery,
  strictQuery: true,
  body: z.strictObject({ reason }),
  idempotencyKey: true,
  answers: controlAnswers,
  errors: WRITES_ROW,
});

export const holdRoute = route({
  path: "hold",
  method: "POST",
  right: "operate",
  summary: "Hold the group on its current side",
  description:
    "No automatic failback until `until` (in the future, at most 72 hours away: a hold always expires, with an audit entry). The caller is the hold's owner; a new hold replaces the old one. A failover away from a failing side still happens, and a manual switch is not held.",
  query: groupQuery,
  strictQuery: true,
  body: z.strictObject({
    until: z.iso.datetime({ offset: true, error: "must be an ISO 8601 time such as 2026-01-01T12:00:00Z" }).describe("When the hold ends by itself (required: at most 72 hours away)."),
    reason: z
      .string()
      .trim()
      .min(1, "must say why")
      .max(500, "must be at most 500 characters")
      .describe("Why, for the audit log, the console and the notification (required; at most 500 characters)."),
  }),
  idempotencyKey: true,
  answers: holdAnswers,
  errors: WRITES_ROW,
});

export const releaseRoute = route({
  path: "release",
  method: "POST",
  right: "operate",
  summary: "Release the failback hold",
  description: "Ends the group's failback hold before its time; automatic failback follows the policy again. `changed: false` when there is none.",
  query: groupQuery,
  strictQuery: true,
  body: z.strictObject({ reason }),
  idempotencyKey: true,
  answers: holdAnswers,
  errors: WRITES_ROW,
});

const approvalBody = z.strictObject({
  proposal_id: z
    .string()
    .trim()
    .min(1, "must name the proposal")
    .max(64, "must be at most 64 characters")
    .describe("The proposal decided on, as GET groups or the notification shows it: a decision about any other is a 409."),
  reason,
});
const approvalAnswers = { 200: { description: "The group's proposal after the decision.", json: approvalResponseSchema, headers: IDEMPOTENT_REPLAY } };

export const approveRoute = route({
  path: "approve",
  method: "POST",
  right: "operate",
  summary: "Approve the proposed switch",
  description:
    "With decision_mode approval: approves the switch the loop proposed (`proposal_id`); the loop makes it at once, under the usual rules (the standby verified, no pause, no cooldown). The audit names the caller. A rejected or expired proposal may still be approved while its condition lasts; 409 when the proposal is not the group's current one or is a notify_only recommendation.",
  query: groupQuery,
  strictQuery: true,
  body: approvalBody,
  idempotencyKey: true,
  answers: approvalAnswers,
  errors: WRITES_ROW,
});

export const rejectRoute = route({
  path: "reject",
  method: "POST",
  right: "operate",
  summary: "Reject the proposed switch",
  description:
    "With decision_mode approval: rejects the switch the loop proposed (`proposal_id`, waiting or approved and not made yet). No automatic switch until the condition clears (the active side recovers) and comes back; a manual switch stays possible. The audit names the caller.",
  query: groupQuery,
  strictQuery: true,
  body: approvalBody,
  idempotencyKey: true,
  answers: approvalAnswers,
  errors: WRITES_ROW,
});

export const drillRoute = route({
  path: "drill",
  method: "POST",
  right: "operate",
  summary: "Run a drill",
  description:
    "A switchover to the other side and, once verified, a switchback, run by the loop through the group's switch plan under the usual safety rules: refused (`changed: false` with a `reason`) when paused, held, cooling down, the standby not healthy by quorum, a drill already running or a switch still in progress. With `dry_run: true`, the plan's readiness and a read-back of every step, nothing written to Azure, answered at once. Either leaves a report (`last_drill` on the row, a `drill` entry in history): each step's duration, the recovery time against the plan's `recovery_budget_seconds`, the writes made. 409 when the group has no switch plan.",
  query: groupQuery,
  strictQuery: true,
  body: z.strictObject({
    dry_run: z.boolean({ error: "must be true or false" }).optional().describe("Readiness and read-back only, no write (default false: a switchover and a switchback)."),
    reason,
  }),
  idempotencyKey: true,
  answers: { 200: { description: "The drill started (or why not), or the dry run's report.", json: drillResponseSchema, headers: IDEMPOTENT_REPLAY } },
  errors: WRITES_ROW,
});

export const retrySwitchRoute = route({
  path: "retry_switch",
  method: "POST",
  right: "operate",
  summary: "Apply a held switch again",
  description:
    "A switch a permanent error stopped (held, compensated) is applied again as a new intent once its cause is fixed; otherwise nothing changes and `reason` says why (`not_held`, `no_switch_plan`).",
  query: groupQuery,
  strictQuery: true,
  body: z.strictObject({ reason }),
  idempotencyKey: true,
  answers: { 200: { description: "The retried switch, or why nothing changed.", json: retrySwitchResponseSchema, headers: IDEMPOTENT_REPLAY } },
  errors: WRITES_ROW,
});

export const readinessRoute = route({
  path: "readiness",
  method: "GET",
  right: "read",
  summary: "Can every step of the switch plan run, and can one region blind the judge?",
  description:
    "Checks the group's switch plan: the resources exist, both sides are defined, the identity holds the needed actions, the TTLs fit the recovery budget. With declared regions or vantage agents, also the topology (problems beginning `topology:`). Reads only.",
  query: groupQuery,
  strictQuery: true,
  answers: { 200: { description: "Ready, or each problem named.", json: readinessResponseSchema } },
  errors: READS_ROW,
});

export const getPlanRoute = route({
  path: "plan",
  operation: "get_plan",
  method: "GET",
  right: "read",
  summary: "The group's switch plan",
  description:
    "The switch plan as it will run (defaults filled in), where it comes from (the row, or SWITCH_PLAN for the default group), the row's ETag and the last readiness check recorded. Reads only.",
  query: groupQuery,
  strictQuery: true,
  answers: { 200: { description: "The plan, or `plan: null` without one.", json: planResponseSchema } },
  errors: READS_ROW,
});

export const setPlanRoute = route({
  path: "plan",
  operation: "set_plan",
  method: "PUT",
  right: "operate",
  summary: "Set the group's switch plan",
  description:
    "Validates the plan (each problem names its step and field), checks its readiness (reads only) and writes both on the row with an audit entry. Not ready is a warning, not a refusal. The row keeps its target: the next cycle verifies the world against the new plan. With If-Match, the plan is written only if the row's ETag is still the one given (else 412).",
  query: groupQuery,
  strictQuery: true,
  body: z.strictObject({ plan: switchPlan.describe("The switch plan (docs/switch-plans.md)."), reason }),
  ifMatch: true,
  answers: { 200: { description: "The plan as stored, its readiness now and whether it changed.", json: planResponseSchema } },
  errors: WRITES_ROW_IF_MATCH,
});

export const removePlanRoute = route({
  path: "plan",
  operation: "remove_plan",
  method: "DELETE",
  right: "operate",
  summary: "Remove the group's switch plan from its row",
  description:
    "Removes the row's switch_plan (an audit entry records it); the default group falls back to SWITCH_PLAN if set. With If-Match, only if the row's ETag is still the one given (else 412).",
  query: groupQuery,
  strictQuery: true,
  body: z.strictObject({ reason }),
  ifMatch: true,
  answers: { 200: { description: "The plan that now applies (`changed: false` when the row had none).", json: planResponseSchema } },
  errors: WRITES_ROW_IF_MATCH,
});

const initAnswer = z.object({
  group: z.string(),
  created: z.boolean(),
  state: stateSchema,
  readiness: z
    .object({ ready: z.boolean(), problems: z.array(z.string()) })
    .optional()
    .describe("With a switch plan, or a topology problem (core/topology.ts): the readiness, recorded on the row with a plan (not ready is a warning)."),
});
export type InitAnswer = z.infer<typeof initAnswer>;

export const initRoute = route({
  path: "init",
  method: "POST",
  right: "operate",
  summary: "Create a group's row",
  description:
    "Creates the tables and the group's row (201), or answers 200 with the existing row untouched. The default group's endpoints come from the app settings. Endpoints: absolute http(s), at most 2048 characters, no user:password@, allowed by the egress policy, primary different from secondary; at most MAX_GROUPS groups.",
  query: z.object({ group: groupNameSchema.optional().describe("The group to create; it may be given in the body instead (both given must agree).") }),
  strictQuery: true,
  body: z.strictObject({
    group: groupNameSchema.optional(),
    primary_endpoint: httpUrlSchema.optional().describe("Health URL of the primary; give both endpoints or neither."),
    secondary_endpoint: httpUrlSchema.optional(),
    primary_region: regionSchema.optional().describe("Azure region of the primary (westeurope): readiness then checks that no single region can blind the judge."),
    secondary_region: regionSchema.optional().describe("Azure region of the secondary."),
    switch_plan: switchPlan
      .optional()
      .describe("The group's switch plan (docs/switch-plans.md), stored on the new row; its readiness is checked and answered. Ignored when the row exists: use PUT /api/plan."),
    // Any policy knob by its row field; null or "" is no override.
    ...policyOverrideFields,
  }),
  answers: {
    200: { description: "The group's row existed and is left untouched.", json: initAnswer },
    201: { description: "The group's row was created.", json: initAnswer },
  },
  errors: [400, 403, 409, 413, 500, 503],
});

const startAnswer = z.object({
  id: z.string().describe("The orchestration's instance id."),
  group: z.string(),
  started: z.boolean(),
  runtime_status: z.string().optional().describe("When not started: the running instance's status."),
  statusQueryGetUri: z.string().describe("This app's own GET /api/status for the group (never a Durable extension URL, which carries the system key)."),
});
export type StartAnswer = z.infer<typeof startAnswer>;

export const startRoute = route({
  path: "start",
  method: "POST",
  right: "operate",
  summary: "Start the group's loop",
  description: "Starts the group's orchestration unless it is Running, Pending, ContinuedAsNew or Suspended.",
  query: groupQuery,
  strictQuery: true,
  answers: { 202: { description: "Started, or already running.", json: startAnswer, headers: { location: "The app's GET /api/status for the group." } } },
  errors: READS_ROW,
});

const statusAnswer = z.object({
  group: z.string(),
  state: stateSchema,
  overrides: policySchema.partial().describe("The policy knobs the row overrides."),
  override_problems: z.array(validationIssueSchema).optional().describe("Knobs on the row that do not parse: the app setting applies."),
  orchestration: instanceInfoSchema,
});
export type StatusAnswer = z.infer<typeof statusAnswer>;

export const statusRoute = route({
  path: "status",
  method: "GET",
  right: "read",
  summary: "The group's row and loop",
  description: "The group's state row, its policy overrides and its orchestration's runtime status. Reads only.",
  query: groupQuery,
  strictQuery: true,
  answers: { 200: { description: "The row and the orchestration.", json: statusAnswer } },
  errors: READS_ROW,
});

const historyAnswer = z.object({
  group: z.string(),
  entries: z.array(z.union([auditEntrySchema, malformedAuditEntrySchema])).describe("Newest first; an entry edited into an unreadable shape is shown with `malformed: true` and its problems."),
  continuation: z.string().optional().describe("The token of the next page; absent on the last."),
});
export type HistoryAnswer = z.infer<typeof historyAnswer>;

export const historyRoute = route({
  path: "history",
  method: "GET",
  right: "read",
  summary: "The group's audit history",
  description: "The audit log, newest first, a page at a time. Reads only.",
  query: z.object({
    group: groupParam,
    limit: historyLimitSchema.optional().describe("Entries per page: digits only, 1-100 (default 20)."),
    continuation: z.string().optional().describe("The token a previous page handed out; any other is a 400."),
  }),
  strictQuery: true,
  answers: { 200: { description: "One page of entries.", json: historyAnswer } },
  errors: READS_ROW,
});

const groupsAnswer = z.object({
  now: z.string(),
  caller: callerRightsSchema,
  groups: z.array(groupOverviewSchema).describe("Every group, by name; a malformed row is that group's `error`."),
});
export type GroupsAnswer = z.infer<typeof groupsAnswer>;

export const groupsRoute = route({
  path: "groups",
  method: "GET",
  right: "read",
  summary: "Every group's overview",
  description: "Every group's row, effective policy, traffic and loop liveness, and what the caller may do: what the console and the CLI show. Reads only.",
  query: noQuery,
  strictQuery: true,
  answers: { 200: { description: "The overview.", json: groupsAnswer } },
  errors: [400, 403, 500, 503],
});

export const consoleRoute = route({
  path: "console",
  method: "GET",
  right: "none",
  summary: "The operator console",
  description: "One self-contained HTML page under a strict Content-Security-Policy; it reads GET /api/groups and acts through the control routes, which check the caller's rights.",
  query: z.object({ refresh: z.string().optional().describe("Read by the page's script, not the server: seconds between two reads of GET /api/groups (at least 0.5, default 5).") }),
  strictQuery: false,
  answers: { 200: { description: "The page.", html: true } },
  errors: [],
});

export const openApiRoute = route({
  path: "openapi.json",
  method: "GET",
  right: "read",
  summary: "This document",
  description: "The OpenAPI 3.1 document of this API, built from the schemas the routes parse with.",
  query: noQuery,
  strictQuery: true,
  answers: {
    200: {
      description: "The OpenAPI document.",
      json: z.looseObject({ openapi: z.literal("3.1.0"), info: z.looseObject({ title: z.string(), version: z.string() }), paths: z.record(z.string(), z.unknown()) }),
    },
  },
  errors: [400, 403, 500],
});

/** Every route of the API, in the order the document lists them. */
export const HTTP_ROUTES: readonly HttpRoute[] = [
  healthCheckRoute,
  doFailoverRoute,
  failbackRoute,
  pauseRoute,
  resumeRoute,
  holdRoute,
  releaseRoute,
  approveRoute,
  rejectRoute,
  drillRoute,
  retrySwitchRoute,
  readinessRoute,
  getPlanRoute,
  setPlanRoute,
  removePlanRoute,
  initRoute,
  startRoute,
  statusRoute,
  historyRoute,
  groupsRoute,
  consoleRoute,
  openApiRoute,
];
