import { Command, InvalidArgumentError } from "commander";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { httpUrlSchema } from "../../core/config";
import { startAzurite, type AzuriteHandle } from "../services/azurite";
import { startLocalHost, type LocalHost } from "../host/host";

/**
 * npm run local: the app on the local host as a long-running service against your own
 * endpoints. Azurite keeps its tables in a folder on disk, so the rows survive a restart; the
 * orchestrations are started again by the watchdog at start. Ctrl-C (SIGINT) or SIGTERM stops
 * the host and Azurite and exits. One run per data folder: a lock file names the run that holds
 * it, and a second start on the folder says so in one line. Azurite ends with this process even
 * when it is killed (see services/azurite.ts), and this process stops when the process that
 * started it (npm) goes away.
 */

interface RunOptions {
  primary?: string;
  secondary?: string;
  port: number;
  data: string;
  settings: string;
}

function url(value: string): string {
  if (!httpUrlSchema.safeParse(value).success) throw new InvalidArgumentError(`not an http(s) URL: "${value}"`);
  return value;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`not a port number: "${value}"`);
  return n;
}

/** The Values of local.settings.json, when the file exists. */
function settingsFile(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const values = (parsed as { Values?: unknown } | null)?.Values;
  if (values === undefined) return {};
  if (!values || typeof values !== "object" || Array.isArray(values)) throw new Error(`${path}: "Values" must be an object of settings`);
  return Object.fromEntries(Object.entries(values as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
}

const LOCK_FILE = ".run.lock";

interface LockHolder {
  readonly pid: number;
  /** Where the run's app answers, once it does. */
  readonly url?: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes the data folder for this run: creates its lock file, or takes over one whose run is
 * gone (killed without stopping). A folder held by a live run throws one line naming it.
 * Answers what tells the lock where the app answers, and what releases it.
 */
function lockDataFolder(dir: string): { at(url: string): void; release(): void } {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const ours = () => readLock(path)?.pid === process.pid;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      writeFileSync(path, JSON.stringify({ pid: process.pid } satisfies LockHolder), { flag: "wx" });
      return {
        at: (url) => ours() && writeFileSync(path, JSON.stringify({ pid: process.pid, url } satisfies LockHolder)),
        // Only our own lock: a later run may have taken a stale one over.
        release: () => ours() && rmSync(path, { force: true }),
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = readLock(path);
    if (holder && holder.pid !== process.pid && alive(holder.pid)) {
      throw new Error(
        `the data folder ${dir} is in use by another run (pid ${holder.pid}${holder.url ? `, app at ${holder.url}` : ", starting"}): stop it (kill ${holder.pid}) or pass --data <another folder>`,
      );
    }
    rmSync(path, { force: true }); // left by a run that was killed: take it over
  }
  throw new Error(`could not take the lock ${path}: another run keeps taking it`);
}

function readLock(path: string): LockHolder | undefined {
  try {
    const value = JSON.parse(readFileSync(path, "utf8")) as LockHolder;
    return Number.isInteger(value.pid) ? value : undefined;
  } catch {
    return undefined;
  }
}

function say(text: string): void {
  console.log(`[local ${new Date().toISOString().slice(11, 19)}] ${text}`);
}

async function main(argv: string[]): Promise<void> {
  const program = new Command("npm run local --")
    .description("Run the failover app on the local host against your own endpoints, with Azurite persisted on disk.")
    .option("--primary <url>", "primary health URL of the default group (PRIMARY_ENDPOINT)", url)
    .option("--secondary <url>", "secondary health URL of the default group (SECONDARY_ENDPOINT)", url)
    .option("--port <port>", "port of the app on 127.0.0.1", port, 7071)
    .option("--data <dir>", "folder where Azurite keeps the tables", ".local-data")
    .option("--settings <file>", "settings file read for its Values (flags and environment win)", "local.settings.json")
    .showHelpAfterError();
  program.parse(argv, { from: "user" });
  const options = program.opts<RunOptions>();
  if ((options.primary === undefined) !== (options.secondary === undefined)) program.error("--primary and --secondary go together: give both or neither");

  const fromFile = settingsFile(resolve(options.settings));
  const env: Record<string, string> = { ...fromFile };
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && key in fromFile) env[key] = value;
  if (options.primary && options.secondary) Object.assign(env, { PRIMARY_ENDPOINT: options.primary, SECONDARY_ENDPOINT: options.secondary });
  // A local run probes local backends: loopback and private networks are allowed unless the settings say otherwise.
  env.EGRESS_ALLOW_PRIVATE ??= process.env.EGRESS_ALLOW_PRIVATE ?? "true";

  const dataDir = resolve(options.data);
  const lock = lockDataFolder(dataDir);
  let azurite: AzuriteHandle | undefined;
  let host: LocalHost | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      say(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    say(`${signal}: stopping the app and Azurite`);
    await host?.stop().catch((err: unknown) => say(`the local host did not stop cleanly: ${(err as Error).message}`));
    await azurite?.stop();
    lock.release();
    say("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  // Started by npm (or another process) that is gone, killed without stopping us: stop as on Ctrl-C.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stop("the process that started this run is gone");
  }, 500).unref();

  try {
    await serve();
  } catch (err) {
    await host?.stop().catch(() => undefined);
    await azurite?.stop();
    lock.release();
    throw err;
  }

  async function serve(): Promise<void> {
    azurite = await startAzurite({ location: dataDir });
    say(`Azurite (Table service) on ${azurite.tableEndpoint}, data in ${dataDir} (pid ${azurite.pid})`);
    // This run's storage is the Azurite just started, whatever the settings file says.
    env.AzureWebJobsStorage = azurite.connectionString;
    host = await startLocalHost({ env, port: options.port, log: (m) => say(m), metrics: true });
    lock.at(host.url);
    // At start, not a minute later: create the default row (when endpoints are set) and start every group's loop.
    await host.runTimer("watchdog");
    const groups = host.taskHub.list();
    if (!process.env.PRIMARY_ENDPOINT && groups.length === 0) {
      say("no group yet: pass --primary URL --secondary URL, set them in local.settings.json, or add one with `failover init`");
    }
    say(`loops: ${groups.map((g) => `${g.instanceId} ${g.runtimeStatus}`).join(", ") || "none"}`);
    say(`console: ${host.url}/api/console`);
    say(`API:     ${host.url}/api (for the CLI: export FAILOVER_URL=${host.url})`);
    say(`metrics: ${host.metricsUrl} (OpenTelemetry, Prometheus format)`);
    say("Ctrl-C stops everything");
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`npm run local: ${(err as Error).message}`);
  process.exit(1);
});
