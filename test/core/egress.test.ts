import { classifyAddress } from "../../src/core/addressClass";
import { addressRefusal, isSelfHost, urlRefusal, type EgressPolicy } from "../../src/core/egress";
import { parseStatusRanges } from "../../src/core/knobs";
import { createHttpProbe, type ProbeOptions } from "../../src/core/probe";
import { startSampleBackend, type SampleBackend } from "../../src/local/services/sampleBackend";

const options: ProbeOptions = { timeoutMs: 1000, expectedStatus: parseStatusRanges("200-299"), maxBodyBytes: 65536, followRedirects: true };
const strict: EgressPolicy = { allowPrivate: false, selfHosts: [] };
const permissive: EgressPolicy = { allowPrivate: true, selfHosts: [] };

describe("address classes", () => {
  test.each([
    ["169.254.169.254", "link_local"],
    ["169.254.0.1", "link_local"],
    ["fe80::1", "link_local"],
    ["168.63.129.16", "wire_server"],
    ["::ffff:169.254.169.254", "link_local"],
    ["::ffff:a9fe:a9fe", "link_local"],
    ["[::ffff:a83f:8110]", "wire_server"],
    ["64:ff9b::a9fe:a9fe", "link_local"],
    ["127.0.0.1", "loopback"],
    ["127.9.9.9", "loopback"],
    ["::1", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "private"],
    ["fd00::1", "private"],
    ["0.0.0.0", "reserved"],
    ["::", "reserved"],
    ["224.0.0.1", "reserved"],
    ["255.255.255.255", "reserved"],
    ["not-an-ip", "reserved"],
    ["172.32.0.1", "public"],
    ["8.8.8.8", "public"],
    ["2001:4860:4860::8888", "public"],
  ])("%s is %s", (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  test("link-local and the wire server are refused even when private networks are allowed; loopback only when allowed", () => {
    expect(addressRefusal("169.254.169.254", permissive)).toMatch(/link-local/);
    expect(addressRefusal("168.63.129.16", permissive)).toMatch(/wire server/);
    expect(addressRefusal("127.0.0.1", strict)).toMatch(/loopback address; set EGRESS_ALLOW_PRIVATE=true/);
    expect(addressRefusal("10.0.0.1", strict)).toMatch(/private address/);
    expect(addressRefusal("127.0.0.1", permissive)).toBeUndefined();
    expect(addressRefusal("20.50.1.1", strict)).toBeUndefined();
  });

  test("the app's own host is matched by name, with or without a port, case and trailing dot ignored", () => {
    const policy: EgressPolicy = { allowPrivate: true, selfHosts: ["func-abc.azurewebsites.net", "127.0.0.1:7071"] };
    expect(isSelfHost("FUNC-ABC.azurewebsites.net.", "443", policy)).toBe(true);
    expect(isSelfHost("127.0.0.1", "7071", policy)).toBe(true);
    expect(isSelfHost("127.0.0.1", "7072", policy)).toBe(false);
    // The address is compared, not its spelling: an IPv4-mapped, NAT64 or bracketed form of the app's own address is the app.
    for (const spelling of ["[::ffff:127.0.0.1]", "::ffff:7f00:1", "::FFFF:127.0.0.1", "64:ff9b::127.0.0.1"]) expect([spelling, isSelfHost(spelling, "7071", policy)]).toEqual([spelling, true]);
    expect(isSelfHost("::1", "7071", { allowPrivate: true, selfHosts: ["[0:0:0:0:0:0:0:1]:7071"] })).toBe(true);
    expect(urlRefusal(new URL("http://[::ffff:127.0.0.1]:7071/api/health_check"), policy)).toBe("[::ffff:7f00:1]:7071 is this app itself");
    expect(urlRefusal(new URL("https://func-abc.azurewebsites.net/api/health_check"), policy)).toMatch(/this app itself/);
    expect(urlRefusal(new URL("http://127.0.0.1:7071/api/health_check"), policy)).toMatch(/this app itself/);
    expect(urlRefusal(new URL("http://2130706433:80/"), strict)).toMatch(/127\.0\.0\.1 is a loopback/);
    expect(urlRefusal(new URL("http://[::ffff:169.254.169.254]/"), permissive)).toMatch(/link-local/);
  });
});

describe("the probe under the egress policy (real servers on 127.0.0.1)", () => {
  let target: SampleBackend;
  let front: SampleBackend;
  beforeEach(async () => {
    target = await startSampleBackend("target");
    front = await startSampleBackend("front");
  });
  afterEach(async () => {
    await target.close();
    await front.close();
  });

  test("strict policy: a loopback endpoint is refused before any request, as class egress_refused", async () => {
    const result = await createHttpProbe(strict)(target.url, options);
    expect(result).toMatchObject({ healthy: false, error_class: "egress_refused" });
    expect(result.error).toMatch(/127\.0\.0\.1 is a loopback address/);
    expect(target.requests).toBe(0);
  });

  test("strict policy: a name that resolves to loopback (localhost) is refused when it is resolved", async () => {
    const url = target.url.replace("127.0.0.1", "localhost");
    const result = await createHttpProbe(strict)(url, options);
    expect(result).toMatchObject({ healthy: false, error_class: "egress_refused" });
    expect(result.error).toMatch(/localhost resolves only to refused addresses/);
    expect(target.requests).toBe(0);
    // The same URL is fine when private networks are allowed.
    expect(await createHttpProbe(permissive)(url, options)).toMatchObject({ healthy: true, status_code: 200 });
  });

  test("a redirect into the metadata address is refused at the hop, not followed", async () => {
    front.behave({ kind: "redirect", location: "http://169.254.169.254/metadata/instance?api-version=2021-02-01" });
    const started = Date.now();
    const result = await createHttpProbe(permissive)(front.url, options);
    expect(result).toMatchObject({ healthy: false, error_class: "egress_refused" });
    expect(result.error).toMatch(/169\.254\.169\.254 is link-local/);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(front.requests).toBe(1);
  });

  test("the address actually connected to is checked: a redirect to another name for the app's own address is refused", async () => {
    const self = new URL(target.url);
    const policy: EgressPolicy = { allowPrivate: true, selfHosts: [self.host] };
    // The name differs from the self entry (localhost vs 127.0.0.1); only the connected socket's address gives it away.
    front.behave({ kind: "redirect", location: `http://localhost:${self.port}/api/health_check` });
    const result = await createHttpProbe(policy)(front.url, options);
    expect(result).toMatchObject({ healthy: false, error_class: "egress_refused" });
    expect(result.error).toMatch(/this app itself/);
    expect(target.requests).toBe(0);
  });

  test("an endpoint on the app's own host is refused before any request", async () => {
    const policy: EgressPolicy = { allowPrivate: true, selfHosts: [new URL(target.url).host] };
    const result = await createHttpProbe(policy)(`${target.url}`, options);
    expect(result).toMatchObject({ healthy: false, error_class: "egress_refused" });
    expect(target.requests).toBe(0);
  });
});
