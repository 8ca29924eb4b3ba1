import { Resolver, lookup } from "node:dns/promises";
import { isIP } from "node:net";

/**
 * Asks one name server directly (no recursion, no cache in between) for a record: how the DNS
 * step checks that the zone's own name servers answer the new value. `server` is a host name,
 * an IP address or `ip:port` (`[v6]:port`). Answers the record's values, lower case without the
 * final dot; none when the name or the type has no record there.
 */
export async function askNameServer(server: string, name: string, type: "CNAME" | "A", timeoutMs = 2000): Promise<string[]> {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([\w.-]+))(?::(\d{1,5}))?$/.exec(server);
  if (!m) throw new Error(`"${server}" is not a host, an IP address or ip:port`);
  const host = m[1] ?? m[2];
  const port = m[3] ?? "53";
  const ip = isIP(host) ? host : (await lookup(host)).address;
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  resolver.setServers([isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`]);
  try {
    const answers = type === "CNAME" ? await resolver.resolveCname(name) : await resolver.resolve4(name);
    return answers.map(normalName);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ENOTFOUND" || code === "ENODATA") return [];
    throw new Error(`name server ${server}: ${code ?? (err as Error).message}`, { cause: err });
  }
}

export function normalName(value: string): string {
  return value.toLowerCase().replace(/\.$/, "");
}
