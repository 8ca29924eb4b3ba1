import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { createTestCertificates } from "../../src/local/services/azureStandIn/certificates";

/**
 * A stand-in for Application Insights ingestion on 127.0.0.1, over HTTPS with a throwaway CA:
 * it accepts the Breeze track calls (`POST /v2/track`, `/v2.1/track`; a JSON array of
 * envelopes, gzip when Content-Encoding says so) as the Azure Monitor exporter sends them,
 * keeps every envelope and the Authorization header it came with, and answers as the
 * service does (200 with itemsReceived/itemsAccepted). Anything else (live metrics) gets 204.
 */

export interface Envelope {
  readonly name: string;
  readonly iKey?: string;
  readonly time: string;
  readonly tags?: Record<string, string>;
  readonly data?: { readonly baseType?: string; readonly baseData?: Record<string, any> };
}

export interface IngestionStandIn {
  /** The IngestionEndpoint for the connection string. */
  readonly url: string;
  readonly caPem: string;
  readonly envelopes: Envelope[];
  /** Method, path and Authorization header of every request. */
  readonly requests: Array<{ method: string; path: string; authorization?: string }>;
  /** Metric data points by metric name: each point's value and properties. */
  metrics(): Map<string, Array<{ value: number; count?: number; properties: Record<string, string> }>>;
  close(): Promise<void>;
}

export async function startIngestionStandIn(): Promise<IngestionStandIn> {
  const certs = createTestCertificates();
  const envelopes: Envelope[] = [];
  const requests: IngestionStandIn["requests"] = [];
  const server = createServer({ cert: certs.certPem, key: certs.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = (req.url ?? "").split("?")[0];
      requests.push({ method: req.method ?? "", path, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
      if (req.method !== "POST" || !/^\/v2(\.1)?\/track$/.test(path)) {
        res.writeHead(204).end();
        return;
      }
      try {
        const raw = Buffer.concat(chunks);
        const body = req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
        const batch = JSON.parse(body.toString("utf8")) as Envelope[];
        if (!Array.isArray(batch)) throw new Error("the body is not an array of envelopes");
        envelopes.push(...batch);
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ itemsReceived: batch.length, itemsAccepted: batch.length, errors: [] }));
      } catch (err) {
        res
          .writeHead(400, { "content-type": "application/json" })
          .end(JSON.stringify({ itemsReceived: 0, itemsAccepted: 0, errors: [{ index: 0, statusCode: 400, message: (err as Error).message }] }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    caPem: certs.caPem,
    envelopes,
    requests,
    metrics() {
      const out = new Map<string, Array<{ value: number; count?: number; properties: Record<string, string> }>>();
      for (const e of envelopes) {
        if (e.data?.baseType !== "MetricData") continue;
        for (const m of e.data.baseData!.metrics as Array<{ name: string; value: number; count?: number }>) {
          const list = out.get(m.name) ?? [];
          list.push({ value: m.value, ...(m.count !== undefined ? { count: m.count } : {}), properties: (e.data.baseData!.properties ?? {}) as Record<string, string> });
          out.set(m.name, list);
        }
      }
      return out;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
