import type { TokenCredential } from "@azure/identity";

/**
 * The credential the local runs hand to the switch clients in place of the managed identity:
 * a fixed bearer token for the stand-in, which checks that one is sent (the SDK refuses to
 * send it over plain HTTP, hence HTTPS) and authorizes by its role assignments.
 */
export const standInCredential: TokenCredential = {
  getToken: async () => ({ token: "local-stand-in-token", expiresOnTimestamp: Date.now() + 3_600_000 }),
};
