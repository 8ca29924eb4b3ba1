import { FUNCTION_KEY_ACTOR, callerOf, platformAuthEnabled, refusalFor, rightsOf } from "../../src/core/identity";

const principal = (roles: string[], name = "ops@contoso.example") =>
  Buffer.from(
    JSON.stringify({
      auth_typ: "aad",
      name_typ: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
      role_typ: "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
      claims: [{ typ: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", val: name }, ...roles.map((val) => ({ typ: "roles", val }))],
    }),
  ).toString("base64");

const headers = (values: Record<string, string>) => (name: string) => values[name] ?? null;

describe("caller identity and rights", () => {
  test("without platform authentication the identity headers are ignored: the audit says a function key acted", () => {
    const caller = callerOf(headers({ "x-ms-client-principal-name": "ceo@contoso.example", "x-ms-client-principal": principal(["operator"]) }), false);
    expect(caller).toEqual({ actor: FUNCTION_KEY_ACTOR, authenticated: false, roles: [] });
    expect(refusalFor(caller, "operate", false)).toBeUndefined();
  });

  test("with platform authentication the principal's name (cleaned and capped) and app roles are used", () => {
    const long = `x${"\u202e".repeat(3)}${"a".repeat(100_000)}`;
    const caller = callerOf(headers({ "x-ms-client-principal-name": long, "x-ms-client-principal": principal(["reader"]) }), true);
    expect(caller.authenticated).toBe(true);
    expect(caller.roles).toEqual(["reader"]);
    expect(Array.from(caller.actor)).toHaveLength(128);
    expect(caller.actor).not.toMatch(/\u202e/);
  });

  test("reader reads but may not operate; operator does both; no role does neither", () => {
    const reader = callerOf(headers({ "x-ms-client-principal": principal(["reader"]) }), true);
    const operator = callerOf(headers({ "x-ms-client-principal": principal(["operator"]) }), true);
    const nobody = callerOf(headers({ "x-ms-client-principal": principal([]) }), true);
    expect(reader.actor).toBe("ops@contoso.example");
    expect(refusalFor(reader, "read", true)).toBeUndefined();
    expect(refusalFor(reader, "operate", true)).toBe("ops@contoso.example lacks the operator app role (has reader)");
    expect(refusalFor(operator, "operate", true)).toBeUndefined();
    expect(refusalFor(nobody, "read", true)).toMatch(/lacks the reader or operator app role \(has no app role\)/);
  });

  test("what the console may offer: with app roles a reader is known not to operate (with the reason); with function keys the key decides when an action is sent", () => {
    const reader = callerOf(headers({ "x-ms-client-principal": principal(["reader"]) }), true);
    const operator = callerOf(headers({ "x-ms-client-principal": principal(["reader", "operator"]) }), true);
    expect(rightsOf(reader, true)).toEqual({ actor: "ops@contoso.example", decided_by: "app_roles", can_operate: false, reason: "ops@contoso.example lacks the operator app role (has reader)" });
    expect(rightsOf(operator, true)).toMatchObject({ decided_by: "app_roles", can_operate: true });
    expect(rightsOf(callerOf(headers({}), false), false)).toMatchObject({ actor: FUNCTION_KEY_ACTOR, decided_by: "function_key", can_operate: true });
  });

  test("a garbage or oversized principal header grants nothing", () => {
    expect(callerOf(headers({ "x-ms-client-principal": "%%%not base64 json" }), true).roles).toEqual([]);
    expect(callerOf(headers({ "x-ms-client-principal": "A".repeat(100_000) }), true).roles).toEqual([]);
  });

  test("WEBSITE_AUTH_ENABLED is read as the platform writes it", () => {
    expect(platformAuthEnabled("True")).toBe(true);
    expect(platformAuthEnabled("true")).toBe(true);
    expect(platformAuthEnabled("False")).toBe(false);
    expect(platformAuthEnabled(undefined)).toBe(false);
    expect(platformAuthEnabled("1")).toBe(false);
  });
});
