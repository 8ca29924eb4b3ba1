import { z } from "zod";

/**
 * Validation errors as data: each problem is `{ path, message }`, and the human-readable text
 * is always `path: message`, joined with "; ". Every layer (settings, rows, requests) reports
 * this way, so a caller can read either.
 */
export const validationIssueSchema = z.object({
  path: z.string().describe("The field, setting or parameter at fault (dotted for nested fields)."),
  message: z.string(),
});
export type ValidationIssue = Readonly<z.infer<typeof validationIssueSchema>>;

/** How a bad value is quoted after its message: `(got "abc")`, `(missing)`; long values are cut. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "missing";
  const text = typeof value === "string" ? `"${value}"` : JSON.stringify(value);
  return `got ${text && text.length > 80 ? `${text.slice(0, 77)}...` : text}`;
}

/** ` (got ...)` for the bad value: the top-level field `key` of a record, or a scalar input itself. */
function quote(input: unknown, key: PropertyKey | undefined): string {
  if (input === undefined) return "";
  const isRecord = input !== null && typeof input === "object";
  if (key === undefined) return isRecord ? "" : ` (${describeValue(input)})`;
  return isRecord ? ` (${describeValue((input as Record<PropertyKey, unknown>)[key])})` : "";
}

/**
 * The issues of a failed zod parse. `root` names the whole input when an issue has no path;
 * `input`, when given, lets each message quote the bad value; `pathName` renames a path
 * (a policy field to its app setting, say).
 */
export function zodIssues(error: z.ZodError, { root, input, pathName = (path) => path }: { root: string; input?: unknown; pathName?: (path: string) => string }): ValidationIssue[] {
  return error.issues.flatMap((issue): ValidationIssue[] => {
    if (issue.code === "unrecognized_keys") return issue.keys.map((key) => ({ path: pathName([...issue.path, key].join(".")), message: "unknown field" }));
    const path = issue.path.length > 0 ? issue.path.map(String).join(".") : root;
    return [{ path: pathName(path), message: `${issue.message}${quote(input, issue.path[0])}` }];
  });
}

/** The one human-readable form: `path: message; path: message`. */
export function formatIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join("; ");
}
