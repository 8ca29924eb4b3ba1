// ESLint: the recommended rules of ESLint and typescript-eslint, and the type-aware rules that
// catch what a controller cannot afford: a promise nobody awaits, a promise where a value is
// expected, an await of a non-promise, an assertion the types already make. Run by `npm run lint`
// (part of `npm test`); zero warnings on the tree.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", ".tools/", "coverage/", "test-output/", ".artifacts/", "tools/bicep-cli/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { project: "./tsconfig.test.json", tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/no-unnecessary-type-assertion": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
    },
  },
  // Tests load function files with require() (each registers its triggers when loaded) and read
  // answers as `any` where the shape is what the assertion checks.
  { files: ["test/**/*.ts"], rules: { "@typescript-eslint/no-require-imports": "off", "@typescript-eslint/no-explicit-any": "off" } },
  // Plain JavaScript (config files, scripts): Node's globals, no type information.
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { require: "readonly", module: "writable", process: "readonly", console: "readonly", __dirname: "readonly", Buffer: "readonly" } },
    rules: { ...tseslint.configs.disableTypeChecked.rules, "@typescript-eslint/no-require-imports": "off" },
  },
);
