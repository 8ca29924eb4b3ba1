import { askNameServer } from "../../src/core/switch/nameServers";
import { startLocalDnsServer, type LocalDnsServer } from "../helpers/dnsServer";

describe("asking a name server directly (a local UDP DNS server on 127.0.0.1)", () => {
  let dns: LocalDnsServer;
  beforeEach(async () => {
    dns = await startLocalDnsServer({ "www.contoso.example": { type: "CNAME", value: "App-East.example.net." }, "api.contoso.example": { type: "A", value: "203.0.113.7" } });
  });
  afterEach(async () => {
    await dns.close();
  });

  test("answers CNAME and A records, lower case without the final dot; none for an unknown name", async () => {
    expect(await askNameServer(dns.address, "www.contoso.example", "CNAME")).toEqual(["app-east.example.net"]);
    expect(await askNameServer(dns.address, "api.contoso.example", "A")).toEqual(["203.0.113.7"]);
    expect(await askNameServer(dns.address, "nope.contoso.example", "CNAME")).toEqual([]);
    expect(dns.questions).toEqual(["www.contoso.example 5", "api.contoso.example 1", "nope.contoso.example 5"]);
  });

  test("a server that does not answer is an error naming it", async () => {
    const silent = await startLocalDnsServer();
    await silent.close();
    await expect(askNameServer(silent.address, "www.contoso.example", "CNAME", 300)).rejects.toThrow(`name server ${silent.address}`);
    await expect(askNameServer("not a server!", "www.contoso.example", "CNAME")).rejects.toThrow("is not a host, an IP address or ip:port");
  });
});
