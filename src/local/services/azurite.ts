import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Starts Azurite's Table service in memory (or in a folder, for npm run local) on a free loopback port, as a child process
 * that ends when its parent does, and gives back a connection string for it. Used by the tests, the local host and the demo, so
 * nothing depends on ports 10000-10002 being free or on a service started by hand.
 */

/** Azurite's documented development account (public, the same in every Azurite). */
const DEV_ACCOUNT = "devstoreaccount1";
const DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface AzuriteHandle {
  readonly tableEndpoint: string;
  readonly connectionString: string;
  /** Process id of the Azurite child process. */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export function azuriteConnectionString(tableEndpoint: string): string {
  return `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};TableEndpoint=${tableEndpoint};`;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

function waitForStart(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => done(new Error(`Azurite did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/successfully started/i.test(output)) done();
    };
    const onExit = (code: number | null) => done(new Error(`Azurite exited (code ${code}) before it started:\n${output}`));
    function done(err?: Error) {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.stderr?.off("data", onData);
      child.off("exit", onExit);
      if (err) reject(err);
      else resolve();
    }
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
  });
}

/**
 * Azurite runs under this small guard (node -e): when its parent goes away without stopping it
 * (killed with SIGKILL), it sees its parent process id change, stops itself as Ctrl-C would
 * (Azurite saves its on-disk tables on SIGINT) and, at the latest 10 s later, exits. So a killed
 * test, demo or `npm run local` never leaves an Azurite behind on its folder or port.
 */
const PARENT_GUARD = `
const parent = process.ppid;
setInterval(() => {
  if (process.ppid === parent) return;
  process.kill(process.pid, "SIGINT");
  setTimeout(() => process.exit(1), 10000).unref();
}, 250).unref();
require(process.argv[1]);
`;

export interface AzuriteOptions {
  /** Keep the tables on disk in this folder (created if missing) instead of in memory. */
  readonly location?: string;
}

export async function startAzurite(options: AzuriteOptions = {}): Promise<AzuriteHandle> {
  const main = require.resolve("azurite/dist/src/table/main.js");
  const persisted = options.location !== undefined;
  if (persisted) mkdirSync(options.location, { recursive: true });
  const workspace = persisted ? options.location : mkdtempSync(join(tmpdir(), "azurite-"));
  const storage = persisted ? ["--location", workspace] : ["--inMemoryPersistence"];
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      ["-e", PARENT_GUARD, main, ...storage, "--disableTelemetry", "--skipApiVersionCheck", "--loose", "--tableHost", "127.0.0.1", "--tablePort", String(port)],
      // Persisted: in its own process group, so a Ctrl-C in the terminal reaches only the
      // parent, which stops Azurite itself once the app has stopped writing.
      { stdio: ["ignore", "pipe", "pipe"], cwd: workspace, detached: persisted },
    );
    try {
      await waitForStart(child, 20_000);
    } catch (err) {
      lastError = err;
      child.kill("SIGKILL");
      continue; // the port was taken between the probe and the spawn: try another
    }
    child.stdout?.resume();
    child.stderr?.resume();
    const tableEndpoint = `http://127.0.0.1:${port}/${DEV_ACCOUNT}`;
    return {
      tableEndpoint,
      connectionString: azuriteConnectionString(tableEndpoint),
      pid: child.pid,
      stop: () =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve(); // already gone (stopped before)
          // Azurite saves its on-disk tables on SIGINT only (SIGTERM ends it at once); it gets 10 s.
          const force = persisted ? setTimeout(() => child.kill("SIGKILL"), 10_000) : undefined;
          child.once("exit", () => {
            clearTimeout(force);
            if (!persisted) rmSync(workspace, { recursive: true, force: true });
            resolve();
          });
          child.kill(persisted ? "SIGINT" : "SIGTERM");
        }),
    };
  }
  if (!persisted) rmSync(workspace, { recursive: true, force: true });
  throw lastError;
}
