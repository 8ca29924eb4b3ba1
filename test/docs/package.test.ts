import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(__dirname, "..", "..");

test("package.json main points at where tsc puts the functions, so the Functions host finds them", () => {
  const { main } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { main: string };
  const { compilerOptions } = JSON.parse(readFileSync(join(root, "tsconfig.json"), "utf8")) as { compilerOptions: { rootDir: string; outDir: string } };
  const sources = readdirSync(join(root, "src", "functions")).filter((f) => f.endsWith(".ts"));
  const expected = `${compilerOptions.outDir}/${"src/functions".slice(compilerOptions.rootDir.length + 1)}/*.js`;
  expect(main).toBe(expected);
  expect(sources.length).toBeGreaterThan(0);
});
