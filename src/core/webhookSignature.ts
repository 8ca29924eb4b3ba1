import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): three headers on every POST,
 *   webhook-id         a stable message id; receivers drop repeats of the same id
 *   webhook-timestamp  seconds since the epoch when the message was signed
 *   webhook-signature  "v1," + base64(HMAC-SHA256(secret, `${id}.${timestamp}.${body}`))
 * The secret is given in the Standard Webhooks form `whsec_<base64 of the key bytes>`; a secret
 * without that prefix is used as its UTF-8 bytes (what most receivers that take a plain shared
 * secret do). The body must be signed exactly as it is sent.
 */

export const SECRET_PREFIX = "whsec_";
/** How far a timestamp may be from the receiver's clock, as the specification recommends. */
export const DEFAULT_TOLERANCE_SECONDS = 300;
const MAX_ID_LENGTH = 256;

export type WebhookHeaders = {
  readonly "webhook-id": string;
  readonly "webhook-timestamp": string;
  readonly "webhook-signature": string;
};

export class WebhookSignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookSignatureError";
  }
}

/** The key bytes of a secret; throws a WebhookSignatureError naming what is wrong with it. */
export function secretKey(secret: string): Buffer {
  if (secret.startsWith(SECRET_PREFIX)) {
    const encoded = secret.slice(SECRET_PREFIX.length);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
      throw new WebhookSignatureError("webhook secret: the part after whsec_ must be base64");
    }
    const key = Buffer.from(encoded, "base64");
    if (key.length < 16) throw new WebhookSignatureError(`webhook secret: must decode to at least 16 bytes (got ${key.length})`);
    return key;
  }
  if (secret.length < 16) throw new WebhookSignatureError(`webhook secret: must be at least 16 characters (got ${secret.length})`);
  return Buffer.from(secret, "utf8");
}

function checkId(id: string): void {
  if (id.length === 0 || id.length > MAX_ID_LENGTH || !/^[\x21-\x7e]+$/.test(id)) {
    throw new WebhookSignatureError(`webhook-id: must be 1-${MAX_ID_LENGTH} printable ASCII characters without spaces (got ${JSON.stringify(id.slice(0, 40))})`);
  }
}

function sign(key: Buffer, id: string, timestamp: number, body: string): string {
  return createHmac("sha256", key).update(`${id}.${timestamp}.${body}`, "utf8").digest("base64");
}

/** The three headers for a body sent at `nowMs`. */
export function signWebhook(secret: string, id: string, body: string, nowMs: number): WebhookHeaders {
  checkId(id);
  const timestamp = Math.floor(nowMs / 1000);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": `v1,${sign(secretKey(secret), id, timestamp, body)}`,
  };
}

/**
 * Checks the headers of a received message (what a receiver does). Throws a
 * WebhookSignatureError naming the header at fault; returns the message id when it is valid.
 * `webhook-signature` may list several space-separated signatures (key rotation): one match is
 * enough.
 */
export function verifyWebhook(secret: string, headers: Readonly<Record<string, string | string[] | undefined>>, body: string, nowMs: number, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS): string {
  const header = (name: keyof WebhookHeaders): string => {
    const value = headers[name];
    if (typeof value !== "string" || value.length === 0) throw new WebhookSignatureError(`${name}: header missing`);
    return value;
  };
  const id = header("webhook-id");
  const timestampText = header("webhook-timestamp");
  const signatures = header("webhook-signature");
  if (!/^\d{1,12}$/.test(timestampText)) throw new WebhookSignatureError(`webhook-timestamp: must be whole seconds since the epoch (got ${JSON.stringify(timestampText.slice(0, 40))})`);
  const timestamp = Number(timestampText);
  const skew = Math.floor(nowMs / 1000) - timestamp;
  if (Math.abs(skew) > toleranceSeconds) throw new WebhookSignatureError(`webhook-timestamp: ${Math.abs(skew)} s ${skew > 0 ? "old" : "in the future"}, more than the ${toleranceSeconds} s tolerated`);
  const expected = Buffer.from(sign(secretKey(secret), id, timestamp, body), "base64");
  for (const candidate of signatures.split(" ")) {
    const [version, value] = candidate.split(",", 2);
    if (version !== "v1" || !value) continue;
    const given = Buffer.from(value, "base64");
    if (given.length === expected.length && timingSafeEqual(given, expected)) return id;
  }
  throw new WebhookSignatureError("webhook-signature: no v1 signature matches the body");
}
