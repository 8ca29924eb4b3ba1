import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** A real webhook receiver on 127.0.0.1 that fails the first `failFirst` deliveries with 500. */
export async function startReceiver(failFirst = 0): Promise<{ url: string; attempts: number; received: Array<Record<string, unknown>>; close(): Promise<void> }> {
  const state = { attempts: 0, received: [] as Array<Record<string, unknown>> };
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      state.attempts++;
      if (state.attempts <= failFirst) return void res.writeHead(500).end("try later");
      state.received.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(200).end("1");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`,
    get attempts() {
      return state.attempts;
    },
    received: state.received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
