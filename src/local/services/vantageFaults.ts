import type { Prober } from "../../core/probe";

/** Faults of a vantage for local runs and tests: a vantage cut off from an endpoint, and one that lies. */

/** The probe of a vantage that cannot reach `partitioned` (host:port of an endpoint's URL). */
export function partitionedProbe(probe: Prober, partitioned: () => readonly string[]): Prober {
  return async (url, options) => {
    const target = URL.canParse(url) ? new URL(url).host : undefined;
    if (target === undefined || !partitioned().includes(target)) return probe(url, options);
    return { url, healthy: false, latency_ms: 0, error_class: "network", error: `request failed (EHOSTUNREACH: this vantage is partitioned from ${target})`, body_bytes_read: 0 };
  };
}

/** The probe of a vantage that lies: every endpoint it is asked about is `healthy` (or not), whatever the truth. */
export function lyingProbe(healthy: boolean): Prober {
  return async (url) =>
    healthy
      ? { url, healthy: true, status_code: 200, latency_ms: 1, body_bytes_read: 0 }
      : { url, healthy: false, status_code: 503, latency_ms: 1, error_class: "http_status", error: "unexpected HTTP status 503", body_bytes_read: 0 };
}
