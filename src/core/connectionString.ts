/** The fields of a `Name=value;Name=value` setting (a connection or authentication string), names in lower case. */
export function connectionStringFields(value: string | undefined): Map<string, string> {
  const fields = new Map<string, string>();
  for (const part of (value ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0) fields.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  return fields;
}
