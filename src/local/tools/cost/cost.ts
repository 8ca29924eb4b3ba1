import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { startAzurite } from "../../services/azurite";
import { COUNTS_FILE, currentDeployment, readCounts } from "./costCount";
import { countCosts } from "./costVantageCount";
import { COST_DOCS, costBlocks, withGeneratedBlocks } from "./costDocs";
import type { CostCounts } from "./costModel";
import { costReport } from "./costReport";
import { installFunctionsCore, registeredFunctions, triggerOf } from "../../host/functionsCore";

/**
 * `npm run cost`: counts the app's storage requests on Azurite (per healthy cycle, failing
 * cycle, failover, watchdog run), adds the Durable extension's traffic from the formula in
 * costModel.ts and the rest of the bill from costBill.ts, and prints the monthly bill for 1,
 * 100 and 1000 groups, per Durable backend, with the always-ready instance and without.
 *
 *   npm run cost              count, print, and say whether docs/cost-counts.json is current
 *   npm run cost -- --write   also write the counts to docs/cost-counts.json and the generated blocks of docs/cost.md, docs/deploy.md and docs/settings.md
 *   npm run cost -- --committed   print from docs/cost-counts.json without counting
 */

function sameCounts(a: CostCounts, b: CostCounts): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
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
      counts = await countCosts(azurite.tableEndpoint);
    } finally {
      await azurite.stop();
    }
    const committed = existsSync(COUNTS_FILE) ? readCounts() : undefined;
    console.log(
      committed && sameCounts(counts, committed)
        ? `cost: ${COUNTS_FILE} is current`
        : `cost: ${COUNTS_FILE} differs from this count${args.has("--write") ? "" : " (npm run cost -- --write updates it and docs/cost.md)"}`,
    );
  }
  // Loaded by the count above, or here for --committed.
  if (!registeredFunctions().get("watchdog")) {
    installFunctionsCore();
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loading it registers the watchdog
    require("../../../functions/watchdog");
  }
  const deployment = currentDeployment(String(triggerOf(registeredFunctions().get("watchdog")!).schedule));
  if (args.has("--write")) {
    writeFileSync(COUNTS_FILE, JSON.stringify(counts, null, 2) + "\n");
    const blocks = costBlocks(counts, deployment);
    for (const doc of COST_DOCS) writeFileSync(doc, withGeneratedBlocks(readFileSync(doc, "utf8"), blocks));
    console.log(`cost: wrote ${COUNTS_FILE} and the generated blocks of ${COST_DOCS.map((d) => relative(process.cwd(), d)).join(" and ")}`);
  }
  console.log(costReport(counts, deployment));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`cost: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  });
}
