import { createHmac } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { TokenCredential } from "@azure/identity";
import { Agent, request, type Dispatcher } from "undici";
import { untilAborted } from "./abort";
import type { StorageConfig } from "./config";
import { connectionStringFields } from "./connectionString";
import { readCapped } from "./probe";
import { StorageTimeoutError } from "./storageTimeout";

/**
 * The loop's one write per check, a conditional Replace of a state row, as one REST call:
 * `PUT {table}(PartitionKey='…',RowKey='…')` with If-Match, signed with the account key
 * (SharedKeyLite) or a bearer token from the app's identity. The SDK's pipeline (serialization,
 * policies, tracing, Node's http client) cost more CPU than the call itself at a thousand checks
 * a second; everything else the app does with Table storage still goes through the SDK.
 *
 * Same contract as the SDK's updateEntity(…, "Replace", { etag }): the new ETag, or an error
 * carrying the HTTP statusCode (412 lost race, 404 no row); the same retries (2, for a network
 * error, 408, 429 and 5xx, backing off from 200 ms to 1 s) and the same whole-call deadline
 * (StorageTimeoutError). Only rows of plain values (string, number, boolean) are written here:
 * the caller sends any other row through the SDK (see isPlainRow).
 */

export type RowReplace = (partitionKey: string, rowKey: string, properties: Readonly<Record<string, unknown>>, etag: string) => Promise<{ etag: string }>;

/** A failed Replace: the service's status, error code and message. */
export class TableWriteError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(`HTTP ${statusCode}${code ? ` ${code}` : ""}${message ? `: ${message}` : ""}`);
    this.name = "TableWriteError";
  }
}

/** True when every property is a string, finite number, boolean or null: what the SDK too sends without a type annotation. */
export function isPlainRow(properties: Readonly<Record<string, unknown>>): boolean {
  for (const value of Object.values(properties)) {
    if (value === null || typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value))) continue;
    return false;
  }
  return true;
}

const API_VERSION = "2019-02-02";
const RETRIES = 2;
const RETRY_DELAY_MS = 200;
const MAX_RETRY_DELAY_MS = 1000;

type Signer = (url: URL, date: string) => Promise<Record<string, string>>;

/** The table endpoint and signer of a connection string with an account key or a SAS; undefined for any other form (the SDK then writes). */
function fromConnectionString(connectionString: string): { endpoint: string; sign: Signer; sas?: string } | undefined {
  const parts = connectionStringFields(connectionString);
  const account = parts.get("accountname");
  const key = parts.get("accountkey");
  const endpoint = parts.get("tableendpoint") ?? (account ? `${parts.get("defaultendpointsprotocol") ?? "https"}://${account}.table.${parts.get("endpointsuffix") ?? "core.windows.net"}` : undefined);
  if (!endpoint) return undefined;
  if (account && key) {
    const secret = Buffer.from(key, "base64");
    return {
      endpoint,
      sign: async (url, date) => {
        // Shared Key Lite for the Table service: the date and the canonicalized resource (the account and the path).
        const signature = createHmac("sha256", secret).update(`${date}\n/${account}${url.pathname}`, "utf8").digest("base64");
        return { authorization: `SharedKeyLite ${account}:${signature}` };
      },
    };
  }
  const sas = parts.get("sharedaccesssignature");
  if (sas) return { endpoint, sign: async () => ({}), sas: sas.replace(/^\?/, "") };
  return undefined;
}

/** Storage's scope; a token is refreshed five minutes before it expires, one request at a time. */
const STORAGE_SCOPE = "https://storage.azure.com/.default";
const REFRESH_BEFORE_MS = 5 * 60_000;

export function bearerSigner(credential: TokenCredential, now: () => number = Date.now): Signer {
  let cached: { token: string; expiresOn: number } | undefined;
  let pending: Promise<string> | undefined;
  const fresh = async (): Promise<string> => {
    const token = await credential.getToken(STORAGE_SCOPE);
    if (!token) throw new TableWriteError(401, "NoToken", `no token for ${STORAGE_SCOPE} from the app's identity`);
    cached = { token: token.token, expiresOn: token.expiresOnTimestamp };
    return token.token;
  };
  return async () => {
    if (!cached || now() > cached.expiresOn - REFRESH_BEFORE_MS) {
      pending ??= fresh().finally(() => (pending = undefined));
      return { authorization: `Bearer ${await pending}` };
    }
    return { authorization: `Bearer ${cached.token}` };
  };
}

function retryable(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/** The service's error code and message from an OData error body, as far as it parses. */
function odataError(text: string): { code: string; message: string } {
  try {
    const error = (JSON.parse(text) as { "odata.error"?: { code?: unknown; message?: { value?: unknown } } })["odata.error"];
    return { code: String(error?.code ?? ""), message: String(error?.message?.value ?? "").split("\n")[0] };
  } catch {
    return { code: "", message: text.slice(0, 300) };
  }
}

/**
 * The lean Replace for a table, or undefined when the storage setting is of a form it does not
 * sign (the SDK then writes every row). `credential` is the app's identity (identity-based storage).
 */
export function leanRowReplace(
  storage: StorageConfig,
  tableName: string,
  timeoutMs: number,
  credential?: TokenCredential,
  dispatcher: Dispatcher = new Agent({ keepAliveTimeout: 30_000 }),
): RowReplace | undefined {
  const auth = storage.kind === "connection_string" ? fromConnectionString(storage.connectionString) : credential ? { endpoint: storage.tableServiceUri, sign: bearerSigner(credential) } : undefined;
  if (!auth) return undefined;
  const base = `${auth.endpoint.replace(/\/+$/, "")}/${tableName}`;
  const key = (value: string) => encodeURIComponent(value.replace(/'/g, "''"));
  return async (partitionKey, rowKey, properties, etag) => {
    const url = new URL(`${base}(PartitionKey='${key(partitionKey)}',RowKey='${key(rowKey)}')${auth.sas ? `?${auth.sas}` : ""}`);
    const body = JSON.stringify({ ...properties, PartitionKey: partitionKey, RowKey: rowKey });
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      for (let attempt = 0; ; attempt++) {
        const date = new Date().toUTCString();
        const again = () => sleep(Math.min(MAX_RETRY_DELAY_MS, RETRY_DELAY_MS * 2 ** attempt), undefined, { signal: controller.signal });
        let response: Dispatcher.ResponseData;
        try {
          response = await request(url, {
            method: "PUT",
            dispatcher,
            signal: controller.signal,
            body,
            headers: {
              ...(await untilAborted(auth.sign(url, date), controller.signal)),
              "x-ms-date": date,
              "x-ms-version": API_VERSION,
              dataserviceversion: "3.0",
              "content-type": "application/json",
              accept: "application/json;odata=nometadata",
              "if-match": etag,
            },
          });
        } catch (err) {
          if (controller.signal.aborted) throw new StorageTimeoutError(timeoutMs);
          if (err instanceof TableWriteError || attempt >= RETRIES) throw err;
          await again();
          continue;
        }
        // An answer is small (204, or an OData error): read at most 64 KiB of it.
        const { text } = await readCapped(response.body, 64 * 1024);
        if (response.statusCode === 204 || response.statusCode === 200) {
          const next = response.headers.etag;
          if (typeof next !== "string") throw new TableWriteError(response.statusCode, "NoETag", "the service answered without an ETag");
          return { etag: next };
        }
        if (retryable(response.statusCode) && attempt < RETRIES) {
          await again();
          continue;
        }
        const { code, message } = odataError(text);
        throw new TableWriteError(response.statusCode, code, message);
      }
    } catch (err) {
      if (controller.signal.aborted && !(err instanceof TableWriteError)) throw new StorageTimeoutError(timeoutMs);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };
}
