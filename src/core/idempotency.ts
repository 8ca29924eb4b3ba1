import type { TableClient } from "@azure/data-tables";
import { createHash } from "node:crypto";
import { z } from "zod";
import { FailoverError } from "./errors";
import { statusCodeOf, storageError } from "./storage";

/**
 * Retry-safe control actions: a request that carries an `Idempotency-Key` header is done at
 * most once per key and group. A repeat with the same key and the same request gets the first
 * answer back and changes nothing, whatever the cooldown; the same key with a different
 * request is refused. Records live in the state table under their own PartitionKey (the
 * groups' rows are untouched and never contended) and are forgotten after a day.
 */

export const IDEMPOTENCY_PARTITION = "idempotency";
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;
/** A claim older than this was abandoned (a crash mid-request): the key may be taken again. */
export const IDEMPOTENCY_STALE_CLAIM_MS = 5 * 60_000;

/** The header's value: 1-200 printable ASCII characters, no spaces. */
export const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(MAX_IDEMPOTENCY_KEY_LENGTH)
  .regex(/^[\x21-\x7e]+$/);

/** Validates the header's value (idempotencyKeySchema). */
export function parseIdempotencyKey(raw: string | null): string | undefined {
  if (raw === null) return undefined;
  if (!idempotencyKeySchema.safeParse(raw).success) {
    throw new FailoverError("invalid_request", `idempotency-key: must be 1-${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters without spaces (got ${Math.min(raw.length, 100_000)} characters)`);
  }
  return raw;
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

interface IdempotencyRecord {
  readonly etag: string;
  readonly fingerprint: string;
  readonly state: "in_progress" | "done";
  readonly response_json: string;
  readonly created_utc: string;
}

/**
 * Runs `act` once per (group, key). `request` identifies what was asked (route and body):
 * the same key with another request is an error, not a replay.
 */
export async function runOnce<R>(table: TableClient, group: string, key: string, request: string, now: Date, act: () => Promise<R>): Promise<{ result: R; replayed: boolean }> {
  const rowKey = `${group}~${sha256(key)}`;
  const fingerprint = sha256(request);
  const fresh = { partitionKey: IDEMPOTENCY_PARTITION, rowKey, fingerprint, state: "in_progress", response_json: "", created_utc: now.toISOString() };
  let etag: string | undefined;
  try {
    etag = (await table.createEntity(fresh)).etag;
  } catch (err) {
    if (statusCodeOf(err) !== 409) throw storageError(`claiming an idempotency key for group "${group}"`, table, err);
  }
  if (etag === undefined) {
    let existing: IdempotencyRecord;
    try {
      existing = await table.getEntity<IdempotencyRecord>(IDEMPOTENCY_PARTITION, rowKey);
    } catch (err) {
      throw storageError(`reading an idempotency key for group "${group}"`, table, err);
    }
    const age = now.getTime() - Date.parse(existing.created_utc);
    const expired = age > IDEMPOTENCY_TTL_MS || (existing.state === "in_progress" && age > IDEMPOTENCY_STALE_CLAIM_MS);
    if (!expired) {
      if (existing.fingerprint !== fingerprint) {
        throw new FailoverError("invalid_request", "idempotency-key: already used for a different request (another route or body); use a new key");
      }
      if (existing.state === "done") return { result: JSON.parse(existing.response_json) as R, replayed: true };
      throw new FailoverError("conflict", "idempotency-key: a request with this key is still in progress; retry it in a moment");
    }
    try {
      etag = (await table.updateEntity(fresh, "Replace", { etag: existing.etag })).etag;
    } catch (err) {
      if (statusCodeOf(err) === 412) throw new FailoverError("conflict", "idempotency-key: a request with this key is still in progress; retry it in a moment");
      throw storageError(`claiming an idempotency key for group "${group}"`, table, err);
    }
  }
  let result: R;
  try {
    result = await act();
  } catch (err) {
    // Nothing was done under this key: free it so the caller can retry with it.
    await table.deleteEntity(IDEMPOTENCY_PARTITION, rowKey, { etag }).catch(() => undefined);
    throw err;
  }
  try {
    await table.updateEntity({ partitionKey: IDEMPOTENCY_PARTITION, rowKey, state: "done", response_json: JSON.stringify(result) }, "Merge", { etag });
  } catch (err) {
    throw storageError(`recording the answer of an idempotent request for group "${group}"`, table, err);
  }
  return { result, replayed: false };
}
