/**
 * What each storage operation and each competing service costs: the one place the cost model's
 * prices live. Prices in USD, pay-as-you-go, per 10,000 operations unless named otherwise. The storage prices
 * are the Azure Retail Prices API's meters for a standard general-purpose v2 LRS account (hot
 * tier for blobs), as recorded in public projects that read that API; they were not fetched
 * from here (no network). Prices differ by region and change: check each before relying on it.
 */
import type { Transactions } from "./costModel";

export const PRICES = {
  date: "2026-12-02",
  /** Product "Tables": every table request as one transaction. Not found in a public record here: the least certain price (see the sensitivity lines). */
  tablePer10k: 0.00036,
  /** Product "Queues v2", sku "Standard LRS", meter "LRS Class 1 Operations": put, delete, update message. */
  queueClass1Per10k: 0.004,
  /** Same product, meter "Class 2 Operations": get (dequeue) and peek messages. The same price as class 1. */
  queueClass2Per10k: 0.004,
  /** "General Block Blob v2", "Hot LRS Write Operations": put blob (the timer trigger's status blob). */
  blobWritePer10k: 0.055,
  /** "Hot Read Operations": get blob. */
  blobReadPer10k: 0.0044,
  /** "All Other Operations": lease renewals (Microsoft's "Map each REST operation to a price" files RenewContainerLease and RenewBlobLease under Other for general-purpose v2). */
  blobOtherPer10k: 0.0044,
  /** https://azure.microsoft.com/pricing/details/traffic-manager/ : health check per external endpoint per month (basic, 30 s). */
  trafficManagerEndpointMonth: 0.54,
  /** Same page: fast interval (10 s) health checks, added per external endpoint per month. */
  trafficManagerFastIntervalMonth: 2.0,
  /** https://aws.amazon.com/route53/pricing/ : health check of a non-AWS endpoint per month (basic, 30 s). */
  route53HealthCheckMonth: 0.75,
  /** Same page: each optional feature (fast interval 10 s) per non-AWS health check per month. */
  route53FastIntervalMonth: 2.0,
  /** https://azure.microsoft.com/pricing/details/functions/ : Flex Consumption always-ready baseline, per GB-second. */
  flexAlwaysReadyBaselinePerGbSecond: 0.000004,
} as const;

/** The storage prices the bill is computed with; the sensitivity lines vary them. */
export type StoragePrices = Record<"tablePer10k" | "queueClass1Per10k" | "queueClass2Per10k" | "blobWritePer10k" | "blobReadPer10k" | "blobOtherPer10k", number>;

/** The storage bill of `t`, at `prices`. */
export function storageCost(t: Transactions, prices: StoragePrices = PRICES): number {
  return (t.table * prices.tablePer10k + t.queueClass1 * prices.queueClass1Per10k + t.queueClass2 * prices.queueClass2Per10k + t.blobWrite * prices.blobWritePer10k + t.blobRead * prices.blobReadPer10k + t.blobOther * prices.blobOtherPer10k) / 10_000;
}
