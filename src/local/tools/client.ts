/** Small HTTP and polling helpers shared by the demo and the end-to-end tests. */

/** Polls `probe` until it returns a value (not undefined) or the time runs out. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Calls the app on the local host and parses its JSON answer. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the answer's JSON, read by tests and tools for the fields they check
export async function call(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${base}${path}`, {
    method,
    ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body), headers: { "content-type": "application/json" } } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
}
