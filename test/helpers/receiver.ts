import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface WebhookReceiver {
  readonly url: string;
  /** Every request, as received (also those answered with an error or held). */
  readonly received: Array<{ headers: Record<string, string | string[] | undefined>; body: string }>;
  /** How to answer the next requests, in order: a status code, or "hang" (no answer until released); 200 after they run out. */
  readonly answers: Array<number | "hang">;
  /** Answers every held request with 200 (so the server can close). */
  release(): void;
  close(): Promise<void>;
}

/** A real webhook receiver on 127.0.0.1 that records each request and answers as told. */
export async function startReceiver(): Promise<WebhookReceiver> {
  const received: WebhookReceiver["received"] = [];
  const answers: WebhookReceiver["answers"] = [];
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      const answer = answers.shift() ?? 200;
      if (answer === "hang") held.push(res);
      else res.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const release = () => {
    for (const res of held.splice(0)) if (!res.writableEnded) res.writeHead(200).end();
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`,
    received,
    answers,
    release,
    close: () => {
      release();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
