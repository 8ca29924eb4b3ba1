import { startSampleBackend } from "../services/sampleBackend";

/**
 * Two sample backends for `func start` (the ports local.settings.sample.json points at):
 *   node dist/local/tools/backends.js [primaryPort] [secondaryPort]
 * Break the primary the classic way: set primary_endpoint in the row to https://127.0.0.1/health.
 */
async function main(): Promise<void> {
  const [primaryText = "7101", secondaryText = "7102"] = process.argv.slice(2, 4);
  const port = (name: string, text: string) => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < 1 || value > 65535) throw new Error(`${name}: expected a port 1-65535, got "${text}"`);
    return value;
  };
  const primaryPort = port("primary port", primaryText);
  const secondaryPort = port("secondary port", secondaryText);
  const backends = [await startSampleBackend("primary", { kind: "ok" }, primaryPort), await startSampleBackend("secondary", { kind: "ok" }, secondaryPort)];
  for (const b of backends) console.log(`${b.name} healthy at ${b.url}`);
  console.log("Ctrl-C stops them.");
  process.once("SIGINT", () => void Promise.all(backends.map((b) => b.close())).then(() => process.exit(0)));
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  process.exitCode = 1;
});
