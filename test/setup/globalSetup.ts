import { startAzurite, type AzuriteHandle } from "../../src/local/services/azurite";

declare global {
  var __AZURITE__: AzuriteHandle | undefined;
}

export default async function globalSetup(): Promise<void> {
  const azurite = await startAzurite();
  globalThis.__AZURITE__ = azurite;
  // Test workers are forked after this point and inherit the variable.
  process.env.TEST_STORAGE_CONNECTION_STRING = azurite.connectionString;
}
