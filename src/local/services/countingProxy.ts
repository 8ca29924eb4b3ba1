import { createServer, request as forward, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * An HTTP proxy in front of Azurite that records every storage request passing through it
 * (method, path, status). Point a connection string's TableEndpoint at it to count what the
 * app itself asks of storage: the cost model and the idle-bill tests use it.
 */

export interface StorageRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

export interface CountingProxy {
  /** The proxy's base URL with the account path, e.g. http://127.0.0.1:1234/devstoreaccount1. */
  readonly endpoint: string;
  readonly requests: StorageRequest[];
  close(): Promise<void>;
}

export async function startCountingProxy(targetEndpoint: string): Promise<CountingProxy> {
  const target = new URL(targetEndpoint);
  const requests: StorageRequest[] = [];
  const server: Server = createServer((req, res) => {
    const upstream = forward({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (answer) => {
      requests.push({ method: req.method ?? "GET", path: (req.url ?? "").split("?")[0], status: answer.statusCode ?? 0 });
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", (err) => {
      requests.push({ method: req.method ?? "GET", path: req.url ?? "", status: 0 });
      if (!res.headersSent) res.writeHead(502).end(err.message);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}${target.pathname}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
