import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A sample backend on 127.0.0.1 whose /health can be told how to behave. The demo runs two
 * of them (primary and secondary); the probe tests use the same server.
 */

export type Behaviour =
  | { readonly kind: "ok"; readonly body?: string }
  | { readonly kind: "status"; readonly status: number; readonly body?: string }
  | { readonly kind: "hang" }
  | { readonly kind: "slow"; readonly ms: number }
  | { readonly kind: "huge"; readonly bytes: number }
  | { readonly kind: "redirect"; readonly location: string };

export interface SampleBackend {
  readonly name: string;
  readonly url: string;
  /** Requests served so far. */
  readonly requests: number;
  /** When each request arrived (ms since the epoch), the newest 10,000. */
  readonly times: readonly number[];
  /** Bytes of body written by "huge" responses so far. */
  readonly hugeBytesWritten: number;
  behave(behaviour: Behaviour): void;
  close(): Promise<void>;
}

export async function startSampleBackend(name: string, initial: Behaviour = { kind: "ok" }, port = 0): Promise<SampleBackend> {
  let behaviour = initial;
  let requests = 0;
  let hugeBytesWritten = 0;
  const times: number[] = [];
  const server: Server = createServer((req, res) => {
    requests++;
    times.push(Date.now());
    if (times.length > 10_000) times.shift();
    const b = behaviour;
    switch (b.kind) {
      case "ok":
        res.writeHead(200, { "content-type": "application/json" }).end(b.body ?? JSON.stringify({ status: "healthy", backend: name }));
        return;
      case "status":
        res.writeHead(b.status, { "content-type": "text/plain" }).end(b.body ?? `${name} answers ${b.status}`);
        return;
      case "redirect":
        res.writeHead(302, { location: b.location }).end();
        return;
      case "hang":
        req.socket.setTimeout(0); // hold the request open until the client gives up
        return;
      case "slow": {
        const timer = setTimeout(() => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: "healthy", backend: name })), b.ms);
        res.once("close", () => clearTimeout(timer));
        return;
      }
      case "huge": {
        res.writeHead(200, { "content-type": "text/plain" });
        const chunk = Buffer.alloc(64 * 1024, "x");
        let left = b.bytes;
        const pump = () => {
          while (left > 0 && !res.destroyed) {
            const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
            left -= piece.length;
            hugeBytesWritten += piece.length;
            if (!res.write(piece)) return void res.once("drain", pump);
          }
          if (!res.destroyed) res.end();
        };
        pump();
        return;
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => reject(new Error(`${name} backend cannot listen on 127.0.0.1:${port}: ${err.message}`)));
    server.listen(port, "127.0.0.1", resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    name,
    url: `http://127.0.0.1:${address.port}/health`,
    get requests() {
      return requests;
    },
    times,
    get hugeBytesWritten() {
      return hugeBytesWritten;
    },
    behave(next) {
      behaviour = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
