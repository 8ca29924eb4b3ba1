import { join } from "node:path";
import { defaultPolicyText } from "../../../core/knobs";
import { BILL_ASSUMPTIONS, STORAGE_ASSUMPTIONS, VANTAGE_ASSUMPTIONS } from "./costAssumptions";
import { loadSentence } from "./costBill";
import { compareWithToday, monthlyBill, type CostCounts, type Deployment } from "./costModel";
import { priceList } from "./costPrices";
import { alwaysReadyChoice, billTable, comparisonLine, costTable, pollingChoices, schedulerLine, telemetryLine, usd, vantageLines, vantageTable } from "./costReport";

/**
 * The documents `npm run cost -- --write` keeps current: each holds blocks between
 * `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`, rewritten from the model; the
 * prose around them is written by hand.
 */

const ROOT = join(__dirname, "..", "..", "..", "..");
export const COST_DOCS = [join(ROOT, "docs", "cost.md"), join(ROOT, "docs", "deploy.md"), join(ROOT, "docs", "settings.md")];

/** What maxQueuePollingInterval buys, in the words the cost reference uses. */
export function pollingJustification(counts: CostCounts, deployment: Deployment): string {
  const storage: Deployment = { ...deployment, backend: "azureStorage" };
  const usd = (s: number) => monthlyBill(counts, { ...storage, maxQueuePollingSeconds: s }, 1, 30).storageUsd;
  const cents = (x: number) => Math.round(x * 100);
  const threshold = Number(defaultPolicyText().failure_threshold);
  const now = deployment.maxQueuePollingSeconds;
  return (
    `${now} s polling adds up to ${now} s to each durable timer and so up to FAILURE_THRESHOLD x ${now} s to detection (${threshold * now} s with the default threshold of ${threshold}); ` +
    `the extension's default of 30 s would add up to ${threshold * 30} s to save about ${cents(usd(now) - usd(30))} cents a month per deployment, and 2 s would cost about ${cents(usd(2) - usd(now))} cents more to save ${threshold * (now - 2)} s`
  );
}

/** What keeping a task hub created with the extension's default 4 partitions would cost, against host.json's count. */
export function partitionCost(counts: CostCounts, deployment: Deployment): string {
  const storage: Deployment = { ...deployment, backend: "azureStorage" };
  const bill = (partitionCount: number, groups: number) => monthlyBill(counts, { ...storage, partitionCount }, groups, 30).storageUsd;
  const more = (groups: number) => `${usd(bill(4, groups) - bill(storage.partitionCount, groups))} (${groups} group${groups === 1 ? "" : "s"})`;
  return `on 4 partitions instead of ${storage.partitionCount}, the same deployment's storage costs ${more(1)}, ${more(100)} and ${more(1000)} more a month at 30 s: polling 4 control queues and renewing 4 partition leases`;
}

/** Every generated block, by name. */
export function costBlocks(counts: CostCounts, deployment: Deployment): Record<string, string> {
  const storage: Deployment = { ...deployment, backend: "azureStorage" };
  const text = (...lines: string[]) => ["```text", ...lines, "```"].join("\n");
  return {
    bill: billTable(counts, deployment),
    choice: text(alwaysReadyChoice(counts, storage), alwaysReadyChoice(counts, { ...deployment, backend: "durableTaskScheduler" }), schedulerLine(counts, deployment)),
    load: loadSentence(counts),
    telemetry: telemetryLine(counts),
    storage: costTable(counts, storage),
    comparison: text(comparisonLine(compareWithToday(counts, storage)), pollingChoices(counts, storage)),
    polling: pollingJustification(counts, deployment),
    partitions: partitionCost(counts, deployment),
    vantages: vantageTable(counts, deployment),
    vantagecycle: text(...vantageLines(counts, deployment)),
    assumptions: [...STORAGE_ASSUMPTIONS, ...BILL_ASSUMPTIONS, ...VANTAGE_ASSUMPTIONS].map((a) => `- ${a}`).join("\n"),
    prices: priceList(),
  };
}

const BLOCK = /<!-- generated:(\w+) -->\n[\s\S]*?<!-- \/generated:\1 -->/g;

/** `doc` with every generated block rewritten from `blocks` (an unknown block name is an error). */
export function withGeneratedBlocks(doc: string, blocks: Record<string, string>): string {
  return doc.replace(BLOCK, (_whole, name: string) => {
    const block = blocks[name];
    if (block === undefined) throw new Error(`unknown generated block "${name}"`);
    return `<!-- generated:${name} -->\n${block}\n<!-- /generated:${name} -->`;
  });
}

/** The names of the generated blocks in `doc`. */
export function generatedBlockNames(doc: string): string[] {
  return [...doc.matchAll(BLOCK)].map((m) => m[1]);
}
