/**
 * Two tiers, both run by `npm test`:
 * - fast: pure code, Azurite and local HTTP(S) servers (`npm run test:fast`, for the edit loop);
 * - slow: the local host end to end, the CLI over it, the browser, the Bicep CLI and the
 *   scripts (`npm run test:slow`).
 * A test not matched by SLOW is fast, so a new folder is never left out of the run.
 * @type {import('jest').Config}
 */
const SLOW = ["/test/(local|bicep|cli)/.*\\.test\\.ts$", "\\.browser\\.test\\.ts$"];

const shared = {
  // Node's, quiet while tests pass: console.warn (the app's log lines) is shown for a failure only.
  testEnvironment: "<rootDir>/test/setup/environment.ts",
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.test.json" }] },
  // The local host plays the Functions worker: it provides @azure/functions-core, through
  // which @azure/functions registers every function (see src/local/host/functionsCore.ts).
  moduleNameMapper: { "^@azure/functions-core$": "<rootDir>/src/local/host/functionsCore.ts" },
  // Every answer of a local host is checked against the OpenAPI document.
  setupFilesAfterEnv: ["<rootDir>/test/setup/answers.ts"],
};

module.exports = {
  // Azurite is started once for the run, in memory on free ports, and stopped after.
  globalSetup: "<rootDir>/test/setup/globalSetup.ts",
  globalTeardown: "<rootDir>/test/setup/globalTeardown.ts",
  testTimeout: 30000,
  projects: [
    { ...shared, displayName: "fast", testMatch: ["<rootDir>/test/**/*.test.ts"], testPathIgnorePatterns: SLOW },
    { ...shared, displayName: "slow", testRegex: SLOW },
  ],
};
