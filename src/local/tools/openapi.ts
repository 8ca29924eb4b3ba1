import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openApiDocument } from "../../core/openApiDocument";

/**
 * `npm run openapi`: the OpenAPI document the app serves at GET /api/openapi.json, against the
 * committed docs/openapi.json.
 *
 *   npm run openapi              say whether docs/openapi.json is current (exit 1 when not)
 *   npm run openapi -- --write   write it
 */

export const OPENAPI_FILE = join(__dirname, "..", "..", "..", "docs", "openapi.json");

/** The document as docs/openapi.json holds it. */
export function openApiText(): string {
  return JSON.stringify(openApiDocument(), null, 2) + "\n";
}

function main(args: readonly string[]): void {
  for (const arg of args) if (arg !== "--write") throw new Error(`unknown argument ${arg} (use --write)`);
  const text = openApiText();
  if (args.includes("--write")) {
    writeFileSync(OPENAPI_FILE, text);
    console.log(`openapi: wrote ${OPENAPI_FILE}`);
  } else if (existsSync(OPENAPI_FILE) && readFileSync(OPENAPI_FILE, "utf8") === text) {
    console.log(`openapi: ${OPENAPI_FILE} is current`);
  } else {
    console.log(`openapi: ${OPENAPI_FILE} differs from what the code generates (npm run openapi -- --write updates it)`);
    process.exitCode = 1;
  }
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    console.error(`openapi: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
