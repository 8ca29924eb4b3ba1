import { parseStatusRanges } from "../../src/core/knobs";
import { httpProbe, type ProbeOptions } from "../../src/core/probe";
import { freePort } from "../../src/local/services/azurite";
import { startSampleBackend, type SampleBackend } from "../../src/local/services/sampleBackend";

const options: ProbeOptions = { timeoutMs: 1000, expectedStatus: parseStatusRanges("200-299"), maxBodyBytes: 65536, followRedirects: false };

describe("HTTP health probe against real local servers", () => {
  let backend: SampleBackend;
  beforeEach(async () => {
    backend = await startSampleBackend("probe-target");
  });
  afterEach(() => backend.close());

  test("200 is healthy, with status code and latency", async () => {
    const result = await httpProbe(backend.url, options);
    expect(result).toMatchObject({ healthy: true, status_code: 200, url: backend.url });
    expect(result.error_class).toBeUndefined();
    expect(backend.requests).toBe(1);
  });

  test("latency is the time the answer took: a backend answering after 150 ms measures at least that, within the timeout", async () => {
    backend.behave({ kind: "slow", ms: 150 });
    const result = await httpProbe(backend.url, options);
    expect(result).toMatchObject({ healthy: true, status_code: 200 });
    expect(result.latency_ms).toBeGreaterThanOrEqual(150);
    expect(result.latency_ms).toBeLessThan(options.timeoutMs);
  });

  test("500 is unhealthy of class http_status", async () => {
    backend.behave({ kind: "status", status: 500 });
    const result = await httpProbe(backend.url, options);
    expect(result).toMatchObject({ healthy: false, status_code: 500, error_class: "http_status" });
  });

  test("expected status ranges are honoured (301 listed as healthy, 204 not)", async () => {
    const custom = { ...options, expectedStatus: parseStatusRanges("200,301") };
    backend.behave({ kind: "status", status: 301 });
    expect((await httpProbe(backend.url, custom)).healthy).toBe(true);
    backend.behave({ kind: "status", status: 204 });
    expect(await httpProbe(backend.url, custom)).toMatchObject({ healthy: false, status_code: 204, error_class: "http_status" });
  });

  test("a server that never answers is a timeout, reported once the timeout has passed", async () => {
    backend.behave({ kind: "hang" });
    const started = Date.now();
    const result = await httpProbe(backend.url, { ...options, timeoutMs: 300 });
    const elapsed = Date.now() - started;
    expect(result).toMatchObject({ healthy: false, error_class: "timeout" });
    expect(elapsed).toBeGreaterThanOrEqual(290);
  });

  test("a refused port is unhealthy of class refused", async () => {
    const port = await freePort();
    const result = await httpProbe(`http://127.0.0.1:${port}/health`, options);
    expect(result).toMatchObject({ healthy: false, error_class: "refused" });
    expect(result.status_code).toBeUndefined();
  });

  test("the classic demo break (https://127.0.0.1/health) comes back unhealthy, not an exception", async () => {
    const result = await httpProbe("https://127.0.0.1/health", { ...options, timeoutMs: 5000 });
    expect(result.healthy).toBe(false);
    expect(["refused", "tls", "network"]).toContain(result.error_class);
  });

  test("a body without the required text is body_mismatch", async () => {
    backend.behave({ kind: "ok", body: '{"status":"degraded"}' });
    const result = await httpProbe(backend.url, { ...options, bodyMatch: '"status":"healthy"' });
    expect(result).toMatchObject({ healthy: false, status_code: 200, error_class: "body_mismatch" });
    backend.behave({ kind: "ok", body: '{"status":"healthy"}' });
    expect((await httpProbe(backend.url, { ...options, bodyMatch: '"status":"healthy"' })).healthy).toBe(true);
  });

  test("a huge body is read only up to the cap", async () => {
    backend.behave({ kind: "huge", bytes: 200 * 1024 * 1024 });
    const result = await httpProbe(backend.url, { ...options, timeoutMs: 5000, maxBodyBytes: 16 * 1024, bodyMatch: "healthy" });
    expect(result).toMatchObject({ healthy: false, error_class: "body_mismatch" });
    expect(result.body_bytes_read).toBe(16 * 1024);
    // The server stopped well short of 200 MiB because the client hung up.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(backend.hugeBytesWritten).toBeLessThan(50 * 1024 * 1024);
  });

  test("redirects are judged as 3xx unless following is configured", async () => {
    const target = await startSampleBackend("redirect-target");
    try {
      backend.behave({ kind: "redirect", location: target.url });
      expect(await httpProbe(backend.url, options)).toMatchObject({ healthy: false, status_code: 302, error_class: "http_status" });
      expect(target.requests).toBe(0);
      expect(await httpProbe(backend.url, { ...options, followRedirects: true })).toMatchObject({ healthy: true, status_code: 200 });
      expect(target.requests).toBe(1);
    } finally {
      await target.close();
    }
  });

  test("a redirect loop, followed, ends after 20 redirects as a network error, not a judged 3xx", async () => {
    backend.behave({ kind: "redirect", location: backend.url });
    const result = await httpProbe(backend.url, { ...options, followRedirects: true, expectedStatus: parseStatusRanges("200-399") });
    expect(result).toMatchObject({ healthy: false, error_class: "network" });
    expect(result.status_code).toBeUndefined();
    expect(backend.requests).toBe(21);
  });

  test.each(["not a url", "ftp://example.test/health", "", "http//missing-colon"])("%j is invalid_url, not an exception", async (url) => {
    const result = await httpProbe(url, options);
    expect(result).toMatchObject({ healthy: false, error_class: "invalid_url", latency_ms: 0 });
  });

  test("an unresolvable host name is dns (the .invalid top-level domain never resolves, RFC 6761)", async () => {
    const result = await httpProbe("http://no-such-host.invalid/health", { ...options, timeoutMs: 10_000 });
    expect(result).toMatchObject({ healthy: false, error_class: "dns" });
    expect(result.error).toMatch(/name resolution failed \((ENOTFOUND|EAI_AGAIN|EAI_FAIL)\)/);
  });
});
