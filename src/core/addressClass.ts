import { BlockList, isIP } from "node:net";

/** What kind of address an IP address is: the egress policy (egress.ts) refuses all but public ones, and loopback and private ones when allowed. */

export type AddressClass = "public" | "loopback" | "private" | "link_local" | "wire_server" | "reserved";

function blockList(v4: string[], v6: string[]): BlockList {
  const list = new BlockList();
  for (const cidr of v4) list.addSubnet(cidr.split("/")[0], Number(cidr.split("/")[1]), "ipv4");
  for (const cidr of v6) list.addSubnet(cidr.split("/")[0], Number(cidr.split("/")[1]), "ipv6");
  return list;
}

const CLASSES: ReadonlyArray<[Exclude<AddressClass, "public">, BlockList]> = [
  ["wire_server", blockList(["168.63.129.16/32"], [])],
  ["link_local", blockList(["169.254.0.0/16"], ["fe80::/10"])],
  ["reserved", blockList(["0.0.0.0/8", "224.0.0.0/4", "240.0.0.0/4"], ["::/128", "ff00::/8"])],
  ["loopback", blockList(["127.0.0.0/8"], ["::1/128"])],
  ["private", blockList(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"], ["fc00::/7"])],
];

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::) IPv6 address. */
export function embeddedIpv4(address: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (!m) return undefined;
  if (m[1]) return m[1];
  const hi = parseInt(m[2], 16);
  const lo = parseInt(m[3], 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** Addresses already classified (BlockList allocates on every check; every probe of a literal address asks), emptied at 4,096. */
const classified = new Map<string, AddressClass>();

/** Classifies an IP address (v4 or v6, brackets allowed). */
export function classifyAddress(raw: string): AddressClass {
  if (classified.size >= 4096) classified.clear();
  const kind = classified.get(raw) ?? classifyUncached(raw);
  classified.set(raw, kind);
  return kind;
}

function classifyUncached(raw: string): AddressClass {
  const bare = raw.replace(/^\[|\]$/g, "").split("%")[0];
  const mapped = embeddedIpv4(bare);
  const address = mapped ?? bare;
  const family = isIP(address) === 4 ? "ipv4" : isIP(address) === 6 ? "ipv6" : undefined;
  if (!family) return "reserved";
  for (const [name, list] of CLASSES) if (list.check(address, family)) return name;
  return "public";
}
