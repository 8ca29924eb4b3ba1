import { execFileSync } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { brotliDecompressSync } from "node:zlib";
import { chromium, type Browser } from "playwright-core";

/**
 * The Chromium the browser tests drive through playwright-core (which never downloads one).
 * It is looked for in this order:
 *
 * 1. `CHROMIUM_PATH`, an executable of Chromium or Chrome;
 * 2. a system Chromium or Chrome: `chromium`, `chromium-browser`, `google-chrome`,
 *    `google-chrome-stable` or `chrome` on PATH, then the usual install paths;
 * 3. the Chromium inside the npm package `@sparticuz/chromium` (a devDependency; Linux x64),
 *    unpacked on first use into `node_modules/.cache/` with the NSS, NSPR and expat libraries
 *    and the font it ships, so it needs nothing from the system but glibc 2.34 or later.
 *
 * `CHROMIUM_PACKAGED_ONLY=1` skips 1 and 2: `.ci/run` sets it for a second run of the browser
 * suite, so the packaged Chromium is proven on every CI run even where a system one exists.
 */

export interface FoundChromium {
  readonly path: string;
  readonly source: "CHROMIUM_PATH" | "system" | "packaged";
  /** Variables the executable needs (the packaged one: its libraries and fonts). */
  readonly env?: Readonly<Record<string, string>>;
}

export const SYSTEM_CHROMIUM_NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"];
export const SYSTEM_CHROMIUM_PATHS = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/opt/google/chrome/chrome",
  "/Applications/Chromium.app/Contents/MacOS/Chromium",
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
];

export const NO_CHROMIUM =
  "No Chromium for the browser tests: set CHROMIUM_PATH to a Chromium or Chrome executable, or put chromium on PATH (on Linux x64, npm install brings one: the devDependency @sparticuz/chromium)";

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findChromium(
  env: NodeJS.ProcessEnv = process.env,
  systemPaths: readonly string[] = SYSTEM_CHROMIUM_PATHS,
  packaged: () => FoundChromium | undefined = packagedChromium,
): FoundChromium {
  if (env.CHROMIUM_PACKAGED_ONLY !== "1") {
    if (env.CHROMIUM_PATH) {
      if (!executable(env.CHROMIUM_PATH)) throw new Error(`CHROMIUM_PATH=${env.CHROMIUM_PATH} is not an executable file`);
      return { path: env.CHROMIUM_PATH, source: "CHROMIUM_PATH" };
    }
    const onPath = (env.PATH ?? "")
      .split(delimiter)
      .filter(Boolean)
      .flatMap((dir) => SYSTEM_CHROMIUM_NAMES.map((name) => join(dir, name)));
    const system = [...onPath, ...systemPaths].find(executable);
    if (system) return { path: system, source: "system" };
  }
  const found = packaged();
  if (found) return found;
  const error = new Error(NO_CHROMIUM);
  error.stack = NO_CHROMIUM; // the line says what to do; a stack would only point here
  throw error;
}

/** The package's Chromium, unpacked once per version (a partial unpack never takes the final name). */
export function packagedChromium(): FoundChromium | undefined {
  if (process.platform !== "linux" || process.arch !== "x64") return undefined;
  let bin: string;
  try {
    bin = join(dirname(require.resolve("@sparticuz/chromium")), "..", "bin");
  } catch {
    return undefined;
  }
  const { version } = JSON.parse(readFileSync(join(bin, "..", "package.json"), "utf8")) as { version: string };
  const dir = join(__dirname, "..", "..", "node_modules", ".cache", `sparticuz-chromium-${version}`);
  if (!existsSync(dir)) {
    const partial = `${dir}.partial-${process.pid}`;
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    // chromium.br is the executable; al2023.tar.br holds lib/ (NSS, NSPR, expat), fonts.tar.br fonts/.
    writeFileSync(join(partial, "chromium"), brotliDecompressSync(readFileSync(join(bin, "chromium.br"))), { mode: 0o755 });
    for (const archive of ["al2023.tar.br", "fonts.tar.br"]) {
      execFileSync("tar", ["-x", "--no-same-owner", "-C", partial], { input: brotliDecompressSync(readFileSync(join(bin, archive))) });
    }
    // The package's own fonts.conf names Lambda's folders: the system's fonts, if any, and the shipped one.
    writeFileSync(
      join(partial, "fonts.conf"),
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n  <dir>${dir}/fonts</dir>\n  <cachedir>${dir}/fonts-cache</cachedir>\n</fontconfig>\n`,
    );
    try {
      renameSync(partial, dir);
    } catch (err) {
      // Another process unpacked it first.
      rmSync(partial, { recursive: true, force: true });
      if (!existsSync(dir)) throw err;
    }
  }
  const libraries = [join(dir, "lib"), process.env.LD_LIBRARY_PATH].filter(Boolean).join(":");
  return { path: join(dir, "chromium"), source: "packaged", env: { LD_LIBRARY_PATH: libraries, FONTCONFIG_FILE: join(dir, "fonts.conf") } };
}

/** The flags this project's machines need; playwright adds a fresh --user-data-dir (a new temporary folder, removed on close). */
export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export async function launchChromium(found: FoundChromium): Promise<Browser> {
  try {
    return await chromium.launch({ executablePath: found.path, args: CHROMIUM_ARGS, ...(found.env ? { env: { ...process.env, ...found.env } } : {}) });
  } catch (err) {
    const bypass = found.source === "packaged" ? "" : " (CHROMIUM_PACKAGED_ONLY=1 uses the packaged one instead)";
    throw new Error(`Chromium (${found.source}) at ${found.path} did not start${bypass}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The Chromium of a browser suite: found when the test file loads (a machine without one fails the
 * suite once, with one line), started before the suite's tests and closed after them.
 */
export function chromiumForSuite(): () => Browser {
  const found = findChromium();
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launchChromium(found);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });
  return () => {
    if (!browser) throw new Error("Chromium is not started yet: use it inside a test or a hook");
    return browser;
  };
}
