import Ajv2020, { type ErrorObject, type ValidateFunction } from "ajv/dist/2020";
import { openApiDocument } from "../../src/core/openApiDocument";
import type { ServedAnswer } from "../../src/local/host/servedAnswers";

/**
 * Checks an answer of the local host against the OpenAPI document: the route and method are
 * documented, the status is one the document lists for them, and a JSON body validates against
 * that status's schema (JSON Schema 2020-12, by ajv).
 */

type Json = Record<string, any>;

export const DOCUMENT_ID = "openapi.json";

/**
 * An ajv that knows the document as a schema, so any schema in it compiles from its JSON
 * pointer (`openapi.json#/components/schemas/StatusAnswer`). Its top-level keys are not JSON
 * Schema keywords: they are declared so strict mode lets them be; everything compiled from the
 * document is checked strictly. Formats are not checked: zod writes a pattern beside each.
 */
export function documentAjv(document: Json = openApiDocument()): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true, validateFormats: false });
  ajv.addVocabulary(Object.keys(document));
  ajv.addSchema({ ...document, $id: DOCUMENT_ID });
  return ajv;
}

const pointer = (...parts: string[]) => `${DOCUMENT_ID}#/${parts.map((p) => p.replace(/~/g, "~0").replace(/\//g, "~1")).join("/")}`;

let ajv: Ajv2020 | undefined;
const validators = new Map<string, ValidateFunction>();

function problemText(error: ErrorObject): string {
  const field = error.instancePath === "" ? "(the body)" : error.instancePath.slice(1).replace(/\//g, ".");
  const extra = error.params.additionalProperty !== undefined ? ` "${error.params.additionalProperty}"` : error.params.allowedValues ? ` (${JSON.stringify(error.params.allowedValues)})` : "";
  return `${field}: ${error.message}${extra}`;
}

/** What is wrong with the answer, or undefined when the document allows it (or does not document the route: the host's own 404 and 405). */
export function answerProblem(answer: ServedAnswer): string | undefined {
  const document: Json = openApiDocument();
  const path = `/api/${answer.route}`;
  const method = answer.method.toLowerCase();
  const operation = document.paths[path]?.[method] as Json | undefined;
  if (!operation) return undefined;
  const where = `${answer.method} ${path} answered ${answer.status}`;
  const listed = operation.responses[String(answer.status)] as Json | undefined;
  if (!listed) return `${where}, a status the document does not list for it (it lists ${Object.keys(operation.responses).join(", ")})`;
  // An error answer is a reference to components/responses.
  const at = listed.$ref ? ["components", "responses", String(listed.$ref).split("/").pop()!] : ["paths", path, method, "responses", String(answer.status)];
  const response = (listed.$ref ? document.components.responses[at[2]] : listed) as Json;
  const mediaType = (answer.contentType ?? "").split(";")[0].trim();
  if (!response.content?.[mediaType]) return `${where} with content type "${mediaType}", which the document does not list for it (${Object.keys(response.content ?? {}).join(", ") || "no body"})`;
  if (mediaType !== "application/json") return undefined;
  const schema = pointer(...at, "content", mediaType, "schema");
  ajv ??= documentAjv(document);
  let validate = validators.get(schema);
  if (!validate) {
    validate = ajv.compile({ $ref: schema });
    validators.set(schema, validate);
  }
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    return `${where}: the body is not JSON (${answer.body.slice(0, 80)})`;
  }
  if (validate(body)) return undefined;
  return `${where}: ${(validate.errors ?? []).map(problemText).join("; ")}`;
}
