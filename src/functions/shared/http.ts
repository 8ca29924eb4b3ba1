import type { HttpFunctionOptions, HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { z } from "zod";
import { groupNameSchema } from "../../core/config";
import { FailoverError, describeError, invalidRequest } from "../../core/errors";
import { errorAnswer } from "../../core/errorAnswer";
import { MAX_BODY_BYTES, MAX_JSON_DEPTH, type HttpRoute } from "../../core/httpRoutes";
import { parseIdempotencyKey, runOnce } from "../../core/idempotency";
import { callerOf, refusalFor, type Caller, type Right } from "../../core/identity";
import { redact } from "../../core/redact";
import { zodIssues } from "../../core/validation";
import { WAKE_EVENT, instanceIdFor } from "../../core/orchestrationContract";
import { runtimeDeps } from "./runtimeDeps";

/** Shared shaping for the HTTP functions: parse input, map errors, answer JSON. Not an entry point. */

/** The JSON error for a failure; secrets are redacted from the body and the log line. */
export function errorResponse(err: unknown, context: InvocationContext): HttpResponseInit {
  const { status, jsonBody, logLine } = errorAnswer(err);
  if (logLine) context.error(logLine);
  return { status, jsonBody };
}

export type JsonHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

/** A JSON route of the contract: its query parameters and the right its caller needs. */
export type JsonRoute = HttpRoute & { readonly right: Right };

/** `code` carries the function key on every route. */
const ALWAYS_ALLOWED = ["code"];

/** Unknown or repeated query parameters are a 400 naming them: `?Group=x` must not act on the default group. */
export function checkQuery(request: HttpRequest, allowed: readonly string[]): void {
  // From the URL itself: the host's query map keeps one value per name and would hide a repeat.
  const names = [...new URL(request.url).searchParams.keys()];
  for (const name of request.query.keys()) if (!names.includes(name)) names.push(name);
  const unknown = [...new Set(names)].filter((n) => !allowed.includes(n) && !ALWAYS_ALLOWED.includes(n));
  const repeated = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
  const issues = [
    ...unknown.map((n) => ({ path: redact(n).slice(0, 64), message: `unknown query parameter (this route takes ${allowed.length > 0 ? allowed.join(", ") : "none"})` })),
    ...repeated.map((n) => ({ path: n, message: "given more than once" })),
  ];
  if (issues.length > 0) throw invalidRequest(...issues);
}

/** The caller of this request, refused with a 403 when it lacks the route's right. */
export function authorizedCaller(request: HttpRequest, right: Right): Caller {
  const { authEnabled } = runtimeDeps().config;
  const caller = callerOf((name) => request.headers.get(name), authEnabled);
  const refusal = refusalFor(caller, right, authEnabled);
  if (refusal) throw new FailoverError("forbidden", refusal);
  return caller;
}

/**
 * Wraps a handler: checks the query parameters (the route's) and the caller's right first, and
 * turns every failure into a JSON error with the right status.
 */
function jsonEndpoint(route: JsonRoute, handler: (request: HttpRequest, context: InvocationContext, caller: Caller) => Promise<HttpResponseInit>): JsonHandler {
  const allowed = Object.keys(route.query.shape);
  return async (request, context) => {
    try {
      checkQuery(request, allowed);
      return await handler(request, context, authorizedCaller(request, route.right));
    } catch (err) {
      return errorResponse(err, context);
    }
  };
}

/** The `group` query parameter, or the default group. */
export function groupOf(request: HttpRequest): string {
  const raw = request.query.get("group");
  if (raw === null || raw === "") return runtimeDeps().config.defaultGroup;
  const parsed = groupNameSchema.safeParse(raw);
  if (!parsed.success) throw invalidRequest(...zodIssues(parsed.error, { root: "group", input: raw }));
  return parsed.data;
}

/** The If-Match header (an ETag a GET answered), when given: bounded, or a 400 naming it. */
export function ifMatchOf(request: HttpRequest): { ifMatch?: string } {
  const value = request.headers.get("if-match");
  if (value === null || value === "") return {};
  if (value.length > 200 || /\p{Cc}/u.test(value)) throw invalidRequest({ path: "If-Match", message: "must be an ETag as GET /api/plan answered it (at most 200 characters)" });
  return { ifMatch: value };
}

/** How deeply arrays and objects nest in a JSON text (brackets inside strings do not count). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") max = Math.max(max, ++depth);
    else if (c === "}" || c === "]") depth--;
  }
  return max;
}

/** Parses an optional JSON body against a strict schema; an empty body is `{}`. Size and nesting are bounded. */
export async function bodyOf<T extends z.ZodType>(request: HttpRequest, schema: T): Promise<z.infer<T>> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES)
    throw new FailoverError("too_large", `body: at most ${MAX_BODY_BYTES} bytes (got ${declared})`, { issues: [{ path: "body", message: `at most ${MAX_BODY_BYTES} bytes` }] });
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_BODY_BYTES)
    throw new FailoverError("too_large", `body: at most ${MAX_BODY_BYTES} bytes`, { issues: [{ path: "body", message: `at most ${MAX_BODY_BYTES} bytes` }] });
  if (jsonDepth(text) > MAX_JSON_DEPTH) throw invalidRequest({ path: "body", message: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` });
  let value: unknown = {};
  if (text.trim() !== "") {
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw invalidRequest({ path: "body", message: `not valid JSON (${(err as Error).message})` });
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidRequest(...zodIssues(parsed.error, { root: "body", input: value }));
  return parsed.data;
}

/** Wakes the group's orchestration so a control action takes effect at once; best effort. */
export async function wake(context: InvocationContext, group: string, reason: string): Promise<boolean> {
  try {
    await df.getClient(context).raiseEvent(instanceIdFor(group), WAKE_EVENT, { reason });
    return true;
  } catch (err) {
    // The row already holds the change; the orchestration picks it up at its next timer.
    context.warn(`wake event for group "${group}" not delivered: ${describeError(err)}`);
    return false;
  }
}

/**
 * The options of a JSON route for `app.http` in its trigger file: its path and method from the
 * contract, function-key auth, and the handler wrapped by jsonEndpoint.
 */
export function jsonRoute(route: JsonRoute, handle: (request: HttpRequest, context: InvocationContext, caller: Caller) => Promise<HttpResponseInit>): HttpFunctionOptions {
  return { route: route.path, methods: [route.method], authLevel: "function", handler: jsonEndpoint(route, handle) };
}

/**
 * The options of an endpoint on one group (`?group=`, the default group when absent), for
 * `app.http` in its trigger file: the Durable client is bound, the query parameters and the
 * caller's right are checked as the route says, and every failure becomes a JSON error.
 */
export function groupEndpoint(route: JsonRoute, handle: (group: string, request: HttpRequest, context: InvocationContext, caller: Caller) => Promise<HttpResponseInit>): HttpFunctionOptions {
  return {
    ...jsonRoute(route, (request, context, caller) => handle(groupOf(request), request, context, caller)),
    extraInputs: [df.input.durableClient()],
  };
}

/**
 * The options of a control endpoint (POST /api/<route>), for `app.http` in its trigger file:
 * validate the body, let the core write the row, then wake the group's orchestration when
 * something changed. The row is the truth; the event only saves waiting for the next timer.
 */
export function controlEndpoint<S extends z.ZodType>(
  route: JsonRoute & { readonly body: S },
  act: (group: string, input: z.infer<S>, actor: string) => Promise<{ readonly changed: boolean }>,
): HttpFunctionOptions {
  const body = route.body;
  return groupEndpoint(route, async (group, request, context, caller) => {
    const key = parseIdempotencyKey(request.headers.get("idempotency-key"));
    const input = await bodyOf(request, body);
    const deps = runtimeDeps();
    if (key === undefined) {
      const result = await act(group, input, caller.actor);
      if (result.changed) await wake(context, group, route.path);
      return { jsonBody: result };
    }
    // Retry-safe: a repeat with the same key gets the first answer and changes nothing.
    const { result, replayed } = await runOnce(deps.store.table, group, key, `${route.path} ${JSON.stringify(input)}`, deps.clock.now(), async () => {
      await deps.store.load(group); // an unknown group is a 404, not a stored answer
      return act(group, input, caller.actor);
    });
    if (result.changed && !replayed) await wake(context, group, route.path);
    return { jsonBody: result, headers: { "idempotent-replayed": String(replayed) } };
  });
}
