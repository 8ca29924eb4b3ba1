import { Command, InvalidArgumentError } from "commander";
import { httpProbe } from "../../core/probe";
import { partitionedProbe } from "../services/vantageFaults";
import { startLocalHost, type LocalHost } from "../host/host";

/**
 * A vantage agent on the local host, in a process of its own (as each agent is its own
 * Function app in Azure): `node dist/local/tools/agent.js --name westeurope --key <key>
 * --state-storage <connection string>`. It prints one JSON line, {"agent","region","url"},
 * once it answers, and stops on SIGINT or SIGTERM, or when the process that started it is gone.
 *
 * `--partition host:port` (repeatable) cuts this vantage off from an endpoint: its probes of
 * that address fail as an unreachable network would, while other vantages still reach it.
 */

function hostPort(value: string, previous: string[] = []): string[] {
  if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(value)) throw new InvalidArgumentError(`not host:port: "${value}"`);
  return [...previous, value];
}

async function main(argv: string[]): Promise<void> {
  const program = new Command("agent")
    .description("a vantage agent on the local host")
    .requiredOption("--name <name>", "the agent's vantage name (as in VANTAGE_AGENTS)")
    .option("--region <region>", "the region it stands for", "local")
    .requiredOption("--key <key>", "the shared key the controller sends (AGENT_KEY, at least 16 characters)")
    .option("--state-storage <connection>", "the controller's state storage (a connection string)", process.env.AGENT_STATE_STORAGE)
    .option("--port <port>", "port to listen on (0: any free one)", "0")
    .option("--partition <host:port>", "an endpoint this vantage cannot reach (repeatable)", hostPort, [] as string[])
    .parse(argv, { from: "user" });
  const options = program.opts<{ name: string; region: string; key: string; stateStorage?: string; port: string; partition: string[] }>();
  if (!options.stateStorage) throw new Error("--state-storage (or AGENT_STATE_STORAGE) is required: the agent probes only the controller's registered endpoints");
  const partitioned = [...options.partition];
  // SIGUSR2 heals the partition: a demo cuts a vantage off, then lets it see again.
  process.on("SIGUSR2", () => void partitioned.splice(0));
  const host: LocalHost = await startLocalHost({
    app: "agent",
    port: Number(options.port),
    timers: false,
    log: (m) => console.error(`[agent ${options.name}] ${m}`),
    env: { AGENT_KEY: options.key, AGENT_STATE_STORAGE: options.stateStorage, REGION_NAME: options.region, EGRESS_ALLOW_PRIVATE: "true" },
    agentProbe: partitionedProbe(httpProbe, () => partitioned),
  });
  const stop = async () => {
    await host.stop().catch(() => undefined);
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stop();
  }, 500).unref();
  console.log(JSON.stringify({ agent: options.name, region: options.region, url: `${host.url}/api/probe` }));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`agent: ${(err as Error).message}`);
  process.exit(1);
});
