/**
 * What each billed unit costs: the one place the cost model's prices live, each with where it
 * comes from and when that was read. USD, pay-as-you-go. None was fetched from here (no
 * network): each is a public record of a price page or of the Azure Retail Prices API, and
 * those that rest on a single or indirect record say so (`estimate`). Prices differ by region
 * and change: check each before relying on it. docs/cost.md lists them (priceList()).
 */
import type { Transactions } from "./costModel";

export interface Price {
  readonly usd: number;
  readonly unit: string;
  /** Where the figure comes from, and the date it was read or recorded. */
  readonly source: string;
  /** Why the figure is uncertain, when it is. */
  readonly estimate?: string;
}

const RETAIL_STORAGE = "the Azure Retail Prices API's meters for a standard general-purpose v2 LRS account (hot tier for blobs), as recorded in public projects that read that API, checked 2026-12-02";

export const PRICE_LIST = {
  tablePer10k: {
    usd: 0.00036,
    unit: "per 10,000 table transactions",
    source: `product "Tables" in ${RETAIL_STORAGE}`,
    estimate: "not found in a public record: the least certain storage price (the sensitivity lines reprice it)",
  },
  queueClass1Per10k: {
    usd: 0.004,
    unit: "per 10,000 queue class 1 operations (put, delete, update message)",
    source: `product "Queues v2", sku "Standard LRS", meter "LRS Class 1 Operations" in ${RETAIL_STORAGE}`,
  },
  queueClass2Per10k: { usd: 0.004, unit: "per 10,000 queue class 2 operations (get, peek)", source: `same product, meter "Class 2 Operations", in ${RETAIL_STORAGE}` },
  blobWritePer10k: { usd: 0.055, unit: "per 10,000 blob writes", source: `"General Block Blob v2", "Hot LRS Write Operations" in ${RETAIL_STORAGE}` },
  blobReadPer10k: { usd: 0.0044, unit: "per 10,000 blob reads", source: `"Hot Read Operations" in ${RETAIL_STORAGE}` },
  blobOtherPer10k: {
    usd: 0.0044,
    unit: "per 10,000 other blob operations (lease renewals)",
    source: `"All Other Operations" in ${RETAIL_STORAGE}; Microsoft's "Map each REST operation to a price" files lease renewals under Other`,
  },
  trafficManagerEndpointMonth: { usd: 0.54, unit: "per external endpoint health-checked per month (30 s)", source: "https://azure.microsoft.com/pricing/details/traffic-manager/ , read 2026-12-02" },
  trafficManagerFastIntervalMonth: { usd: 2.0, unit: "per external endpoint per month for the 10 s fast interval, added", source: "same page, read 2026-12-02" },
  route53HealthCheckMonth: { usd: 0.75, unit: "per health check of a non-AWS endpoint per month (30 s)", source: "https://aws.amazon.com/route53/pricing/ , read 2026-12-02" },
  route53FastIntervalMonth: { usd: 2.0, unit: "per non-AWS health check per month for each optional feature (10 s interval), added", source: "same page, read 2026-12-02" },
  flexAlwaysReadyBaselinePerGbSecond: {
    usd: 0.000004,
    unit: "per GB-second of every always-ready instance, around the clock (no free grant)",
    source:
      'Azure Functions pricing page, Flex Consumption meter "Always Ready Baseline", East US (https://azure.microsoft.com/pricing/details/functions/); a public record of the same page in EUR reads EUR 0.0000038 (2025)',
    estimate: "a list price not re-read from the page here",
  },
  flexAlwaysReadyExecutionPerGbSecond: {
    usd: 0.000016,
    unit: "per GB-second an always-ready instance spends executing (no free grant)",
    source:
      'meter "Always Ready Execution Time"; a public record of the Azure Functions pricing page in EUR reads EUR 0.0000149 (2025), which is $0.000016 at the ratio of its on-demand rate (EUR 0.000025 against $0.000026)',
    estimate: "converted from a EUR record",
  },
  flexOnDemandExecutionPerGbSecond: {
    usd: 0.000026,
    unit: "per GB-second an on-demand instance spends executing, after a free grant of 100,000 GB-s a month",
    source: 'meter "On Demand Execution Time", East US, as quoted by modal.com\'s "Azure Functions pricing" guide (2025-05-22); the EUR record reads EUR 0.000025 with the same free grant',
  },
  flexExecutionsPerMillion: {
    usd: 0.4,
    unit: "per million executions (on demand: after a free grant of 250,000 a month; always ready: none)",
    source: 'meters "On Demand Total Executions" and "Always Ready Total Executions"; the EUR record reads EUR 0.371 and EUR 0.370439 per million (2025)',
    estimate: "converted from a EUR record",
  },
  logAnalyticsPerGb: {
    usd: 2.3,
    unit: "per GB ingested into Application Insights (Log Analytics, Analytics logs, pay-as-you-go), after 5 GB a month free",
    source:
      'monitoringcost.com, "Azure Monitor cost 2026" ("around $2.30 per gigabyte", first 5 GB per workspace per month free); Microsoft\'s "Azure Monitor Logs cost calculations" page bills the stored columns of each record, about 25% less than the JSON sent',
    estimate: "regional; secondary source",
  },
  schedulerConsumptionPerAction: {
    usd: 0.003,
    unit: "per action the Durable Task Scheduler (Consumption SKU) dispatches",
    source:
      'Azure Retail Prices API, service "Durable Task Scheduler", meter "Consumption Action": unitPrice 0.003, unitOfMeasure "1" (westus3), as recorded by a public project on 2026-10-06; a public Durable Task Scheduler guide computes "Total Actions x $0.003 per action"',
    estimate:
      'Microsoft\'s "Durable Task Scheduler billing" page (2026-05-01) writes the bill as (actions / 1,000,000) x the regional price per million actions, a millionth of this reading if the $0.003 is per million: check the Azure Functions pricing page',
  },
} as const satisfies Record<string, Price>;

export type PriceName = keyof typeof PRICE_LIST;

export const PRICES = Object.fromEntries(Object.entries(PRICE_LIST).map(([name, p]) => [name, p.usd])) as Record<PriceName, number>;

/** The storage prices the bill is computed with; the sensitivity lines vary them. */
export type StoragePrices = Record<"tablePer10k" | "queueClass1Per10k" | "queueClass2Per10k" | "blobWritePer10k" | "blobReadPer10k" | "blobOtherPer10k", number>;

/** The storage bill of `t`, at `prices`. */
export function storageCost(t: Transactions, prices: StoragePrices = PRICES): number {
  return (
    (t.table * prices.tablePer10k +
      t.queueClass1 * prices.queueClass1Per10k +
      t.queueClass2 * prices.queueClass2Per10k +
      t.blobWrite * prices.blobWritePer10k +
      t.blobRead * prices.blobReadPer10k +
      t.blobOther * prices.blobOtherPer10k) /
    10_000
  );
}

/** Every price with its unit, source and uncertainty: the list docs/cost.md shows. */
export function priceList(): string {
  return Object.values(PRICE_LIST as Record<PriceName, Price>)
    .map((p) => `- $${Math.abs(p.usd * 100 - Math.round(p.usd * 100)) < 1e-9 ? p.usd.toFixed(2) : p.usd} ${p.unit}. Source: ${p.source}.${p.estimate ? ` Estimate: ${p.estimate}.` : ""}`)
    .join("\n");
}
