import { z } from "zod";
import { TEXT_LIMITS, cleanText } from "./text";

/**
 * Who is calling, and may they. With App Service Authentication (Entra ID) on, the platform
 * strips client-sent `x-ms-client-principal*` headers and sets its own, and it says so in
 * the WEBSITE_AUTH_ENABLED environment variable: then the principal's app roles decide
 * (`reader` reads, `operator` reads and operates) and its name goes into the audit. With it
 * off, anyone holding a function key could write those headers, so they are ignored: the
 * audit records that a function key acted, and per-function keys separate readers from operators.
 */

export type Right = "read" | "operate";

export const READER_ROLE = "reader";
export const OPERATOR_ROLE = "operator";

/** The actor recorded when the platform does not authenticate callers. */
export const FUNCTION_KEY_ACTOR = "function key";

export interface Caller {
  /** Cleaned and capped, safe for the row, the audit, logs and webhook text. */
  readonly actor: string;
  /** True when the platform authenticated the caller (the name and roles are trustworthy). */
  readonly authenticated: boolean;
  /** App roles from the platform's client principal; empty when authentication is off. */
  readonly roles: readonly string[];
}

/** True when the platform says App Service Authentication is on (WEBSITE_AUTH_ENABLED). */
export function platformAuthEnabled(value: string | undefined): boolean {
  return (value ?? "").trim().toLowerCase() === "true";
}

const MAX_PRINCIPAL_BYTES = 16 * 1024;
const ROLE_CLAIMS = new Set(["roles", "role", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"]);

interface Principal {
  readonly name?: string;
  readonly roles: string[];
}

/** Decodes the platform's x-ms-client-principal (base64 JSON with `claims`, `role_typ`, `name_typ`). */
function decodePrincipal(encoded: string): Principal | undefined {
  if (encoded.length > (MAX_PRINCIPAL_BYTES * 4) / 3) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(encoded, "base64").toString("utf8")) as {
      claims?: Array<{ typ?: unknown; val?: unknown }>;
      role_typ?: unknown;
      name_typ?: unknown;
    };
    const claims = Array.isArray(parsed.claims) ? parsed.claims : [];
    const roleTypes = new Set([...ROLE_CLAIMS, ...(typeof parsed.role_typ === "string" ? [parsed.role_typ] : [])]);
    const roles = claims.filter((c) => typeof c.typ === "string" && roleTypes.has(c.typ) && typeof c.val === "string").map((c) => String(c.val));
    const nameClaim = claims.find((c) => c.typ === parsed.name_typ || c.typ === "name" || c.typ === "preferred_username");
    return { roles, ...(typeof nameClaim?.val === "string" ? { name: nameClaim.val } : {}) };
  } catch {
    return undefined;
  }
}

/** The caller of one request, from its headers (`header(name)` returns null when absent). */
export function callerOf(header: (name: string) => string | null, authEnabled: boolean): Caller {
  if (!authEnabled) return { actor: FUNCTION_KEY_ACTOR, authenticated: false, roles: [] };
  const principal = decodePrincipal(header("x-ms-client-principal") ?? "");
  const name = header("x-ms-client-principal-name") ?? principal?.name ?? header("x-ms-client-principal-id") ?? "";
  const actor = cleanText(name, TEXT_LIMITS.actor);
  return { actor: actor === "" ? "unnamed principal" : actor, authenticated: principal !== undefined || name !== "", roles: principal?.roles ?? [] };
}

/**
 * Why the caller may not do `right`, or undefined when it may. Without platform
 * authentication the function key already decided (the Functions host checked it).
 */
export function refusalFor(caller: Caller, right: Right, authEnabled: boolean): string | undefined {
  if (!authEnabled) return undefined;
  const allowed = right === "read" ? [READER_ROLE, OPERATOR_ROLE] : [OPERATOR_ROLE];
  if (caller.roles.some((r) => allowed.includes(r))) return undefined;
  const need = right === "read" ? `the ${READER_ROLE} or ${OPERATOR_ROLE} app role` : `the ${OPERATOR_ROLE} app role`;
  return `${caller.actor} lacks ${need} (has ${caller.roles.length > 0 ? caller.roles.map((r) => cleanText(r, 64)).join(", ") : "no app role"})`;
}

/** What the console may offer the caller: shown with every overview so a reader sees no action it cannot take. */
export const callerRightsSchema = z.object({
  actor: z.string(),
  decided_by: z
    .enum(["app_roles", "function_key"])
    .describe(
      "app_roles: the platform authenticated the caller and its app roles decide, so can_operate is known. function_key: the host checks the key of each route when it is called, so whether this caller may act is known only when it tries (a refusal is a 401).",
    ),
  can_operate: z.boolean().describe("False only when it is known that the caller may not operate."),
  reason: z.string(),
});
export type CallerRights = Readonly<z.infer<typeof callerRightsSchema>>;

export function rightsOf(caller: Caller, authEnabled: boolean): CallerRights {
  if (!authEnabled) {
    return { actor: caller.actor, decided_by: "function_key", can_operate: true, reason: "function keys decide: each action is checked against the key when it is sent" };
  }
  const refusal = refusalFor(caller, "operate", authEnabled);
  return { actor: caller.actor, decided_by: "app_roles", can_operate: refusal === undefined, reason: refusal ?? `${caller.actor} holds the ${OPERATOR_ROLE} app role` };
}
