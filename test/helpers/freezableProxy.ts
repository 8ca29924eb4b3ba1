import { connect, createServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

/**
 * A TCP proxy on 127.0.0.1 in front of a real server (Azurite) that can be frozen: while
 * frozen it accepts connections and bytes but forwards nothing in either direction, as a
 * storage account that stops answering does. Thawed, it forwards what it held.
 */
export interface FreezableProxy {
  readonly port: number;
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

export async function startFreezableProxy(targetPort: number): Promise<FreezableProxy> {
  let frozen = false;
  const held: Array<() => void> = [];
  const sockets = new Set<Socket>();
  const forward = (to: Socket) => (chunk: Buffer) => {
    if (frozen) held.push(() => !to.destroyed && to.write(chunk));
    else if (!to.destroyed) to.write(chunk);
  };
  const server = createServer((client) => {
    const upstream = connect(targetPort, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("data", forward(upstream));
    upstream.on("data", forward(client));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    freeze: () => void (frozen = true),
    thaw: () => {
      frozen = false;
      for (const send of held.splice(0)) send();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The same connection string with its TableEndpoint moved to the proxy's port. */
export function throughProxy(connectionString: string, port: number): string {
  return connectionString.replace(/(TableEndpoint=http:\/\/127\.0\.0\.1:)\d+/, `$1${port}`);
}
