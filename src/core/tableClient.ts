import { TableClient } from "@azure/data-tables";
import { DefaultAzureCredential } from "@azure/identity";
import type { StorageConfig } from "./config";
import { STORAGE_CALL_TIMEOUT_MS, withDeadline } from "./storageTimeout";

/**
 * Table clients for either a connection string (Azurite, keys) or an identity-based endpoint.
 * Every call they make has a whole-call deadline (storageTimeout.ts).
 */
export function createTableClient(storage: StorageConfig, tableName: string, timeoutMs = STORAGE_CALL_TIMEOUT_MS): TableClient {
  const retryOptions = { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 1000 };
  if (storage.kind === "connection_string") {
    const insecure = storage.connectionString === "UseDevelopmentStorage=true" || /TableEndpoint\s*=\s*http:/i.test(storage.connectionString);
    return withDeadline(TableClient.fromConnectionString(storage.connectionString, tableName, { allowInsecureConnection: insecure, retryOptions }), timeoutMs);
  }
  return withDeadline(new TableClient(storage.tableServiceUri, tableName, storageCredential(storage), { retryOptions }), timeoutMs);
}

/** The app's identity for identity-based storage, one per client id (its tokens are cached in it). */
const credentials = new Map<string, DefaultAzureCredential>();
export function storageCredential(storage: Extract<StorageConfig, { kind: "identity" }>): DefaultAzureCredential {
  let credential = credentials.get(storage.clientId ?? "");
  if (!credential) {
    credential = new DefaultAzureCredential(storage.clientId ? { managedIdentityClientId: storage.clientId } : {});
    credentials.set(storage.clientId ?? "", credential);
  }
  return credential;
}
