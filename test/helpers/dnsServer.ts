import { createSocket } from "node:dgram";

/**
 * A tiny authoritative DNS server on 127.0.0.1 (UDP, a free port) for tests: answers A and
 * CNAME questions from `records` (name -> value, changeable while it runs), NXDOMAIN for any
 * other name, and counts the questions it was asked.
 */
export interface LocalDnsServer {
  /** `127.0.0.1:<port>`, as a plan's `name_servers` entry. */
  readonly address: string;
  readonly records: Map<string, { type: "A" | "CNAME"; value: string }>;
  readonly questions: string[];
  close(): Promise<void>;
}

const TYPES = { A: 1, CNAME: 5 } as const;

function encodeName(name: string): Buffer {
  const labels = name
    .replace(/\.$/, "")
    .split(".")
    .filter((l) => l !== "");
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, "ascii")])), Buffer.from([0])]);
}

function readQuestion(query: Buffer): { name: string; type: number; end: number } {
  const labels: string[] = [];
  let offset = 12;
  while (query[offset] !== 0) {
    const length = query[offset];
    labels.push(query.subarray(offset + 1, offset + 1 + length).toString("ascii"));
    offset += length + 1;
  }
  return { name: labels.join(".").toLowerCase(), type: query.readUInt16BE(offset + 1), end: offset + 5 };
}

export async function startLocalDnsServer(records: Record<string, { type: "A" | "CNAME"; value: string }> = {}): Promise<LocalDnsServer> {
  const server = createSocket("udp4");
  const map = new Map(Object.entries(records).map(([name, r]) => [name.toLowerCase(), r]));
  const questions: string[] = [];
  server.on("message", (query, peer) => {
    const { name, type, end } = readQuestion(query);
    questions.push(`${name} ${type}`);
    const record = map.get(name);
    const answers = record && (TYPES[record.type] === type || record.type === "CNAME") ? [record] : [];
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2); // id
    header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | (record ? 0 : 3), 2); // QR, AA, RD copied, NXDOMAIN when unknown
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const parts: Buffer[] = [header, query.subarray(12, end)];
    for (const r of answers) {
      const rdata = r.type === "A" ? Buffer.from(r.value.split(".").map(Number)) : encodeName(r.value);
      const fixed = Buffer.alloc(12);
      fixed.writeUInt16BE(0xc00c, 0); // the question's name
      fixed.writeUInt16BE(TYPES[r.type], 2);
      fixed.writeUInt16BE(1, 4); // IN
      fixed.writeUInt32BE(60, 6);
      fixed.writeUInt16BE(rdata.length, 10);
      parts.push(fixed, rdata);
    }
    server.send(Buffer.concat(parts), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => server.bind(0, "127.0.0.1", resolve));
  return {
    address: `127.0.0.1:${server.address().port}`,
    records: map,
    questions,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
