import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { registeredFunctions } from "../../src/local/host/functionsCore";

const root = join(__dirname, "..", "..");

test("package.json main points at where tsc puts the functions, so the Functions host finds them", () => {
  const { main } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { main: string };
  const { compilerOptions } = JSON.parse(readFileSync(join(root, "tsconfig.json"), "utf8")) as { compilerOptions: { rootDir: string; outDir: string } };
  const sources = readdirSync(join(root, "src", "functions")).filter((f) => f.endsWith(".ts"));
  const expected = `${compilerOptions.outDir}/${"src/functions".slice(compilerOptions.rootDir.length + 1)}/*.js`;
  expect(main).toBe(expected);
  expect(sources.length).toBeGreaterThan(0);
});

test("every entry point registers its functions under a literal name a grep finds; helpers are outside the entry-point glob", () => {
  const dir = join(root, "src", "functions");
  const entryPoints = readdirSync(dir).filter((f) => f.endsWith(".ts"));
  const literal = /\b(?:app\.(?:http|timer)|df\.app\.(?:activity|orchestration))\(\s*"([A-Za-z0-9_]+)"/g;
  const named = new Map<string, string>();
  for (const file of entryPoints) {
    const names = [...readFileSync(join(dir, file), "utf8").matchAll(literal)].map((m) => m[1]);
    expect([file, names.length]).not.toEqual([file, 0]);
    for (const name of names) named.set(name, file);
  }
  for (const file of entryPoints) require(join(dir, file));
  expect([...registeredFunctions().keys()].sort()).toEqual([...named.keys()].sort());
  expect(readdirSync(join(dir, "shared")).filter((f) => f.endsWith(".ts")).length).toBeGreaterThan(0);
});

test('"Where things live" (docs/architecture.md) names only paths that exist, and every folder under src', () => {
  const doc = readFileSync(join(root, "docs", "architecture.md"), "utf8");
  const section = doc.slice(doc.indexOf("## Where things live"));
  const block = section.slice(section.indexOf("```\n") + 4, section.indexOf("\n```", section.indexOf("```\n") + 4));
  const named: string[] = [];
  let parent = "";
  for (const line of block.split("\n")) {
    const cell = /^(\s*)(\S+(?:, \S+)*)\s{2,}/.exec(line);
    if (!cell) continue;
    const names = cell[2].split(", ");
    if (cell[1] === "") parent = names[0]!;
    for (const name of cell[1] === "" ? names : names.map((n) => parent + n)) named.push(name.replace(/\/$/, ""));
  }
  for (const path of named) expect([path, existsSync(join(root, path))]).toEqual([path, true]);
  const folders = (base: string): string[] =>
    readdirSync(join(root, base), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .flatMap((e) => [`${base}/${e.name}`, ...folders(`${base}/${e.name}`)]);
  for (const folder of folders("src")) expect(named).toContain(folder);
});

test("every build first removes compiled files whose source is gone (a renamed function would otherwise still load from dist/functions/*.js), and only those", () => {
  const { scripts } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };
  expect(scripts.prebuild).toBe("node scripts/prune-dist.js");
  const project = mkdtempSync(join(tmpdir(), "prune-dist-"));
  try {
    const files = ["src/functions/kept.ts", "src/local/kept.ts", "dist/functions/kept.js", "dist/functions/kept.js.map", "dist/functions/kept.d.ts", "dist/local/kept.js", "dist/local/notes.json",
      "dist/functions/renamed.js", "dist/functions/renamed.js.map", "dist/functions/renamed.d.ts", "dist/gone/old.js"];
    for (const file of files) {
      mkdirSync(dirname(join(project, file)), { recursive: true });
      writeFileSync(join(project, file), "");
    }
    const output = execFileSync(process.execPath, [join(root, "scripts", "prune-dist.js"), project], { encoding: "utf8" });
    expect(output).toContain("removed 4 compiled file(s)");
    for (const file of files) expect([file, existsSync(join(project, file))]).toEqual([file, !/renamed|gone/.test(file)]);
    expect(existsSync(join(project, "dist", "gone"))).toBe(false);
    // Nothing stale: nothing removed, nothing said.
    expect(execFileSync(process.execPath, [join(root, "scripts", "prune-dist.js"), project], { encoding: "utf8" })).toBe("");
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
});

test("the scripts that run the app or its tests first check the Node.js major: on an older one, one line saying how to get it, and exit 1", () => {
  const { scripts } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };
  for (const name of ["test", "test:fast", "test:slow", "demo", "start", "bench", "soak", "cost", "local", "backends"]) {
    expect([name, scripts[name]?.startsWith("node scripts/check-node.js && ")]).toEqual([name, true]);
  }
  expect(readFileSync(join(root, ".nvmrc"), "utf8")).toBe("22\n");
  // This Node.js passes the project's own check, silently.
  expect(execFileSync(process.execPath, [join(root, "scripts", "check-node.js")], { encoding: "utf8", stdio: "pipe" })).toBe("");
  // The same script beside a package.json asking for a major no Node.js has yet.
  const project = mkdtempSync(join(tmpdir(), "check-node-"));
  try {
    mkdirSync(join(project, "scripts"));
    writeFileSync(join(project, "scripts", "check-node.js"), readFileSync(join(root, "scripts", "check-node.js")));
    writeFileSync(join(project, "package.json"), JSON.stringify({ engines: { node: ">=99" } }));
    const run = spawnSync(process.execPath, [join(project, "scripts", "check-node.js")], { encoding: "utf8", env: { ...process.env, npm_lifecycle_event: "demo" } });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr.split("\n")).toEqual([expect.stringMatching(/^This project needs Node\.js 99 or later; this is Node\.js v\d+\.\d+\.\d+ \(.+\)\. /), ""]);
    expect(run.stderr).toContain('npm install --prefix .tools/node99 node@99 && export PATH="$PWD/.tools/node99/node_modules/.bin:$PATH"');
    expect(run.stderr).toContain("npx -p node@99 -- npm run demo");
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
});
