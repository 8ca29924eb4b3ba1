import type { HttpFunctionOptions, HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { z } from "zod";
import { groupNameSchema } from "../../core/config";
import { FailoverError, describeError, invalidRequest, type FailoverErrorCode } from "../../core/errors";
import { zodIssues } from "../../core/validation";
import { WAKE_EVENT, instanceIdFor } from "../../core/orchestrationContract";
import { runtimeDeps } from "./runtimeDeps";

/** Shared shaping for the HTTP functions: parse input, map errors, answer JSON. Not an entry point. */

const STATUS_BY_CODE: Record<FailoverErrorCode, number> = {
  invalid_request: 400,
  state_not_found: 404,
  conflict: 409,
  malformed_state: 500,
  invalid_config: 500,
  storage_unavailable: 503,
};

export function errorResponse(err: unknown, context: InvocationContext): HttpResponseInit {
  if (err instanceof FailoverError) {
    if (STATUS_BY_CODE[err.code] >= 500) context.error(err.message);
    return { status: STATUS_BY_CODE[err.code], jsonBody: { error: err.code, message: err.message, ...(err.issues ? { issues: err.issues } : {}) } };
  }
  context.error(err);
  return { status: 500, jsonBody: { error: "internal_error", message: describeError(err) } };
}

export type JsonHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

/** Wraps a handler so every failure becomes a JSON error with the right status. */
export function jsonEndpoint(handler: JsonHandler): JsonHandler {
  return async (request, context) => {
    try {
      return await handler(request, context);
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

/** Parses an optional JSON body against a strict schema; an empty body is `{}`. */
export async function bodyOf<T extends z.ZodType>(request: HttpRequest, schema: T): Promise<z.infer<T>> {
  const text = await request.text();
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

/** The caller's identity when App Service authentication supplies one. */
export function actorOf(request: HttpRequest): string {
  return request.headers.get("x-ms-client-principal-name") ?? "api";
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

export const optionalReason = z.string().max(500, "must be at most 500 characters").optional();

/**
 * The options of an endpoint on one group (`?group=`, the default group when absent), for
 * `app.http` in its trigger file: the Durable client is bound, and every failure becomes a
 * JSON error with the right status.
 */
export function groupEndpoint(
  route: string,
  method: "GET" | "POST",
  handle: (group: string, request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>,
): HttpFunctionOptions {
  return {
    route,
    methods: [method],
    authLevel: "function",
    extraInputs: [df.input.durableClient()],
    handler: jsonEndpoint((request, context) => handle(groupOf(request), request, context)),
  };
}

/**
 * The options of a control endpoint (POST /api/<route>): validate the body, let the core write
 * the row, then wake the group's orchestration when something changed. The row is the truth;
 * the event only saves waiting for the next timer.
 */
export function controlEndpoint<S extends z.ZodType>(
  route: string,
  body: S,
  act: (group: string, input: z.infer<S>, actor: string) => Promise<{ readonly changed: boolean }>,
): HttpFunctionOptions {
  return groupEndpoint(route, "POST", async (group, request, context) => {
    const result = await act(group, await bodyOf(request, body), actorOf(request));
    if (result.changed) await wake(context, group, route);
    return { jsonBody: result };
  });
}
