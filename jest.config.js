/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.test.json" }] },
  // Azurite is started once for the run, in memory on free ports, and stopped after.
  globalSetup: "<rootDir>/test/setup/globalSetup.ts",
  globalTeardown: "<rootDir>/test/setup/globalTeardown.ts",
  // The local host plays the Functions worker: it provides @azure/functions-core, through
  // which @azure/functions registers every function (see src/local/functionsCore.ts).
  moduleNameMapper: { "^@azure/functions-core$": "<rootDir>/src/local/functionsCore.ts" },
  testTimeout: 30000,
};
