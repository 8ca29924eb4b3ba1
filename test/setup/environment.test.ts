import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(__dirname, "..", "..");

/** The project's jest environment, run by a real jest on a small test file: quiet while tests pass, the held lines shown for a failure. */
test("console.warn is held while tests pass and shown, every line since the last passing test, when a test fails; console.log and console.error always print", () => {
  const dir = mkdtempSync(join(tmpdir(), "quiet-env-"));
  try {
    writeFileSync(
      join(dir, "held.test.js"),
      `beforeAll(() => console.warn("from beforeAll"));
test("passes", () => { console.warn("warned by the passing test"); console.log("logged on purpose"); });
describe("then", () => {
  beforeAll(() => console.warn("warned before the failure", 1));
  test("fails", () => { console.error("an error line"); console.warn("warned by the failing test"); expect(1).toBe(2); });
});
test("passes last", () => { console.warn("warned by the last test"); });
`,
    );
    const config = {
      rootDir: root,
      roots: [dir],
      testEnvironment: join(root, "test", "setup", "environment.ts"),
      transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: join(root, "tsconfig.test.json") }] },
    };
    const run = spawnSync(process.execPath, [require.resolve("jest/bin/jest"), "--config", JSON.stringify(config), "--ci"], { cwd: dir, encoding: "utf8" });
    const output = run.stdout + run.stderr;
    expect(output).toContain("Tests:       1 failed, 2 passed, 3 total");
    expect(output).toMatch(/console\.warn since the last test that passed, shown because the test "fails" failed:\n\s*warned before the failure 1\n\s*warned by the failing test\n/);
    // A line printed, not the same words in the failure's code frame.
    const printed = (text: string) => new RegExp(`^\\s*${text}$`, "m").test(output);
    expect(["logged on purpose", "an error line"].map(printed)).toEqual([true, true]);
    for (const line of ["from beforeAll", "warned by the passing test", "warned by the last test"]) expect([line, printed(line)]).toEqual([line, false]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
