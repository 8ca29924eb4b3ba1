import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startAzurite } from "../../services/azurite";
import { COUNTS_FILE, countStorageRequests, currentDeployment, readCounts } from "./costCount";
import { ASSUMPTIONS, compareWithToday, type CostCounts, type Deployment } from "./costModel";
import { comparisonLine, costReport, costTable, pollingChoices } from "./costReport";
import { installFunctionsCore, registeredFunctions, triggerOf } from "../../host/functionsCore";

/**
 * `npm run cost`: counts the app's storage requests on Azurite (per healthy cycle, failing
 * cycle, failover, watchdog run), adds the Durable extension's traffic from the formula in
 * costModel.ts and prints the monthly bill for 1, 100 and 1000 groups at 30 s and 10 s.
 *
 *   npm run cost              count, print, and say whether docs/cost-counts.json is current
 *   npm run cost -- --write   also write the counts to docs/cost-counts.json and the README's cost table, comparison and assumptions
 *   npm run cost -- --committed   print from docs/cost-counts.json without counting
 */

function sameCounts(a: CostCounts, b: CostCounts): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The README's Cost section with its table, before/after block and assumptions recomputed from `counts` and the model. */
export function readmeWithCosts(readme: string, counts: CostCounts, deployment: Deployment): string {
  const start = readme.indexOf("## Cost\n");
  const end = readme.indexOf("\n## ", start + 1);
  if (start < 0 || end < 0) throw new Error("README has no '## Cost' section");
  const section = readme
    .slice(start, end)
    .replace(/^\| Groups \| Interval \|.*\n(?:\|.*\n)*/m, costTable(counts, deployment) + "\n")
    .replace(/```text\none group at 30 s: [^`]*```/, "```text\n" + comparisonLine(compareWithToday(counts, deployment)) + "\n" + pollingChoices(counts, deployment) + "\n```")
    .replace(/(What the formula assumes:\n\n)(?:- .*\n)+/, (_, heading: string) => heading + ASSUMPTIONS.map((a) => `- ${a}\n`).join(""));
  return readme.slice(0, start) + section + readme.slice(end);
}

async function main(): Promise<void> {
  const args = new Set(process.argv.slice(2));
  for (const arg of args) if (!["--write", "--committed"].includes(arg)) throw new Error(`unknown argument ${arg} (use --write or --committed)`);
  let counts: CostCounts;
  if (args.has("--committed")) {
    counts = readCounts();
  } else {
    console.log("cost: counting the app's storage requests on Azurite through a counting proxy ...");
    const azurite = await startAzurite();
    try {
      counts = await countStorageRequests(azurite.tableEndpoint);
    } finally {
      await azurite.stop();
    }
    const committed = existsSync(COUNTS_FILE) ? readCounts() : undefined;
    console.log(committed && sameCounts(counts, committed) ? `cost: ${COUNTS_FILE} is current` : `cost: ${COUNTS_FILE} differs from this count${args.has("--write") ? "" : " (npm run cost -- --write updates it and the README)"}`);
  }
  // Loaded by the count above, or here for --committed.
  if (!registeredFunctions().get("watchdog")) {
    installFunctionsCore();
    require("../../../functions/watchdog");
  }
  const deployment = currentDeployment(String(triggerOf(registeredFunctions().get("watchdog")!).schedule));
  if (args.has("--write")) {
    writeFileSync(COUNTS_FILE, JSON.stringify(counts, null, 2) + "\n");
    const readme = join(__dirname, "..", "..", "..", "..", "README.md");
    writeFileSync(readme, readmeWithCosts(readFileSync(readme, "utf8"), counts, deployment));
    console.log(`cost: wrote ${COUNTS_FILE} and the README's cost table`);
  }
  console.log(costReport(counts, deployment));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`cost: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  });
}
