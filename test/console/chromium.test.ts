import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findChromium, NO_CHROMIUM, packagedChromium, type FoundChromium } from "../helpers/browser";

/** Which Chromium the browser suite gets (test/helpers/browser.ts), on real files in a temporary folder. */

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "chromium-lookup-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(path: string, mode: number): string {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(join(path), "#!/bin/sh\n", { mode });
  return path;
}

const packaged: FoundChromium = { path: "/packaged/chromium", source: "packaged" };
const none = () => undefined;

test("CHROMIUM_PATH comes first, then chromium or chrome on PATH, then the usual install paths, then the packaged one", () => {
  const own = file(join(dir, "own", "my-chrome"), 0o755);
  const onPath = file(join(dir, "bin", "google-chrome"), 0o755);
  const installed = file(join(dir, "opt", "chromium"), 0o755);
  const env = { CHROMIUM_PATH: own, PATH: `${join(dir, "empty")}:${join(dir, "bin")}` };
  expect(findChromium(env, [installed], () => packaged)).toEqual({ path: own, source: "CHROMIUM_PATH" });
  expect(findChromium({ PATH: env.PATH }, [installed], () => packaged)).toEqual({ path: onPath, source: "system" });
  expect(findChromium({ PATH: join(dir, "empty") }, [installed], () => packaged)).toEqual({ path: installed, source: "system" });
  expect(findChromium({ PATH: join(dir, "empty") }, [join(dir, "opt", "absent")], () => packaged)).toBe(packaged);
});

test("a file that cannot be run is not a browser; a CHROMIUM_PATH that cannot be run is an error naming it", () => {
  const notExecutable = file(join(dir, "plain", "chromium"), 0o644);
  expect(findChromium({ PATH: join(dir, "plain") }, [notExecutable], () => packaged)).toBe(packaged);
  expect(() => findChromium({ CHROMIUM_PATH: notExecutable }, [], () => packaged)).toThrow(`CHROMIUM_PATH=${notExecutable} is not an executable file`);
});

test("CHROMIUM_PACKAGED_ONLY=1 skips CHROMIUM_PATH and the system's browsers", () => {
  const own = file(join(dir, "skipped", "chromium"), 0o755);
  expect(findChromium({ CHROMIUM_PACKAGED_ONLY: "1", CHROMIUM_PATH: own, PATH: join(dir, "skipped") }, [own], () => packaged)).toBe(packaged);
});

test("no browser anywhere: one line saying how to get one, without a stack", () => {
  let error: Error | undefined;
  try {
    findChromium({ PATH: join(dir, "empty") }, [], none);
  } catch (err) {
    error = err as Error;
  }
  expect(error?.message).toBe(NO_CHROMIUM);
  expect(error?.stack).toBe(NO_CHROMIUM);
  expect(NO_CHROMIUM).not.toContain("\n");
  expect(NO_CHROMIUM).toMatch(/CHROMIUM_PATH.*npm install/);
});

(process.platform === "linux" && process.arch === "x64" ? test : test.skip)(
  "the packaged Chromium unpacks into node_modules/.cache with its own libraries and fonts, and runs",
  () => {
    const found = packagedChromium()!;
    expect(found.source).toBe("packaged");
    expect(found.path).toMatch(/node_modules\/\.cache\/sparticuz-chromium-[\d.]+\/chromium$/);
    const libraries = found.env!.LD_LIBRARY_PATH.split(":")[0];
    for (const lib of ["libnss3.so", "libnspr4.so", "libexpat.so.1"]) expect([lib, existsSync(join(libraries, lib))]).toEqual([lib, true]);
    expect(existsSync(found.env!.FONTCONFIG_FILE)).toBe(true);
    expect(execFileSync(found.path, ["--version"], { env: { ...process.env, ...found.env }, encoding: "utf8" })).toMatch(/^Chromium \d+\./);
  },
  60_000,
);
