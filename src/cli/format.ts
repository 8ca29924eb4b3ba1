import type { DrillReport, DrillResponse } from "../core/operations/drill";
import type { EndpointView, GroupOverview } from "../core/overview";

/** Plain-text rendering of the API's answers for the CLI (the --json output is the answer itself). */

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

function seconds(n: number): string {
  if (n < 90) return `${n}s`;
  if (n < 5400) return `${Math.round(n / 60)}m`;
  return `${(n / 3600).toFixed(1)}h`;
}

function health(ep: EndpointView | undefined): string {
  if (!ep) return "?";
  const state = ep.healthy === true ? "up" : ep.healthy === false ? "DOWN" : "?";
  // Failures toward a failover, or healthy checks toward an automatic failback, against the threshold.
  const streak = ep.streak?.threshold !== undefined ? ` ${ep.streak.count}/${ep.streak.threshold}` : "";
  return `${state}${streak}${tally(ep.votes)}`;
}

/** The last check's votes in a few characters: " (votes 1/3 down, 1 none)"; nothing with a single vantage. */
function tally(votes: EndpointView["votes"]): string {
  if (!votes || votes.length < 2) return "";
  const down = votes.filter((v) => v.healthy === false).length;
  const none = votes.filter((v) => v.healthy === undefined).length;
  return ` (votes ${down}/${votes.length} down${none > 0 ? `, ${none} none` : ""})`;
}

export function groupsTable(groups: readonly GroupOverview[]): string {
  if (groups.length === 0) return "no groups (create one with: failover init --group NAME --primary URL --secondary URL)";
  const rows = groups.map((g) => {
    if (g.error) return [g.group, "?", g.error.code, "", "", "", "", "", g.error.message];
    const ep = (t: string) => g.endpoints?.find((e) => e.target === t);
    const loop = `${g.loop.runtime_status}${g.loop.last_cycle_age_seconds !== undefined ? ` ${seconds(g.loop.last_cycle_age_seconds)} ago` : ""}${g.loop.stale ? " STALE" : ""}`;
    const pause = [
      g.pause ? `paused${g.pause.by ? ` by ${g.pause.by}` : ""}${g.pause.until ? ` until ${g.pause.until}` : ""}${g.pause.reason ? `: ${g.pause.reason}` : ""}` : "",
      g.hold ? `failback held by ${g.hold.owner ?? "?"} until ${g.hold.until}${g.hold.reason ? `: ${g.hold.reason}` : ""}` : "",
      g.proposal ? `${g.proposal.kind} ${g.proposal.state === "pending" ? `PROPOSED (${g.proposal.id}): failover approve or reject` : g.proposal.state}` : "",
      g.drill ? `drill ${g.drill.id} running (${g.drill.phase})` : "",
    ]
      .filter(Boolean)
      .join("; ");
    return [
      g.group,
      String(g.active_target).toUpperCase(),
      String(g.last_status),
      health(ep("primary")),
      health(ep("secondary")),
      g.cooldown ? seconds(g.cooldown.remaining_seconds) : "-",
      loop,
      pause || "-",
      // The same one-line summary the console shows (computed in the core's overview).
      [
        g.traffic?.summary ?? "-",
        g.drift?.summary,
        g.readiness && !g.readiness.ready ? g.readiness.summary : undefined,
        g.last_drill
          ? `last drill ${g.last_drill.result}${g.last_drill.recovery_seconds !== undefined ? ` (recovery ${g.last_drill.recovery_seconds} s${g.last_drill.budget_seconds !== undefined ? ` of ${g.last_drill.budget_seconds} s` : ""})` : ""}`
          : undefined,
      ]
        .filter(Boolean)
        .join("; "),
    ];
  });
  return table(["GROUP", "ACTIVE", "STATUS", "PRIMARY", "SECONDARY", "COOLDOWN", "LOOP", "PAUSE/HOLD", "TRAFFIC"], rows);
}

export interface HistoryEntryView {
  readonly at: string;
  readonly kind: string;
  readonly from: string;
  readonly to: string;
  readonly reason: string;
  readonly actor: string;
  readonly forced: boolean;
  readonly notification_status: string;
  /** When the notification was delivered, on entries that record it. */
  readonly notified_utc?: string;
  /** A switch's entry: the writes it made to the world (the ledger). */
  readonly writes?: ReadonlyArray<{
    readonly at: string;
    readonly step: string;
    readonly method: string;
    readonly resource: string;
    readonly change: string;
    readonly result: string;
    readonly intent: string;
    readonly ms: number;
  }>;
  readonly writes_omitted?: number;
}

function notified(e: HistoryEntryView): string {
  return e.notified_utc ? `${e.notification_status} ${e.notified_utc}` : e.notification_status;
}

export function historyTable(entries: readonly HistoryEntryView[]): string {
  if (entries.length === 0) return "no transitions yet";
  const text = table(
    ["AT", "KIND", "FROM->TO", "BY", "NOTIFIED", "REASON"],
    entries.map((e) => [e.at, `${e.kind}${e.forced ? " (BREAK-GLASS)" : ""}`, `${e.from}->${e.to}`, e.actor, notified(e), e.reason]),
  );
  // Each switch's writes to the world (its ledger), under the table: what changed where, and how it went.
  const ledgers = entries
    .filter((e) => e.writes && e.writes.length > 0)
    .map((e) =>
      [
        `writes of ${e.kind} at ${e.at}${e.writes_omitted ? ` (${e.writes_omitted} older not kept)` : ""}:`,
        ...e.writes!.map((w) => `  ${w.at}  ${w.method} ${w.resource}  ${w.change}  ${w.result}  ${w.ms} ms  intent ${w.intent}`),
      ].join("\n"),
    );
  return [text, ...ledgers].join("\n\n");
}

interface PlanAnswerView {
  readonly group: string;
  readonly source: string;
  readonly etag: string;
  readonly plan: { readonly generation: string; readonly on_failure?: string; readonly steps: ReadonlyArray<Record<string, unknown> & { readonly kind: string }> } | null;
  readonly readiness?: { readonly ready: boolean; readonly problems: readonly string[] };
}

/** A switch plan answer: where it comes from, each step, its readiness, and the ETag to send back. */
export function planText(answer: PlanAnswerView): string {
  if (!answer.plan) return `group ${answer.group}: no switch plan (a switch moves the row only) · etag ${answer.etag}`;
  const steps = answer.plan.steps.map((s, i) => `  step ${i} ${s.kind} ${JSON.stringify(Object.fromEntries(Object.entries(s).filter(([k]) => k !== "kind")))}`);
  const readiness = answer.readiness ? (answer.readiness.ready ? "READY" : `NOT READY: ${answer.readiness.problems.join("; ")}`) : "readiness not checked yet";
  return [`group ${answer.group}: plan ${answer.plan.generation} from ${answer.source} (on failure: ${answer.plan.on_failure ?? "hold"}) · ${readiness} · etag ${answer.etag}`, ...steps].join("\n");
}

/** A drill's answer: started (the loop reports when it is back), refused, or a dry run's report with its steps. */
export function drillText(answer: DrillResponse): string {
  if (!answer.changed) return `drill: not started (${answer.reason ?? "nothing to do"})${answer.drill_id ? `: ${answer.drill_id} is running` : ""}`;
  if (!answer.report) return `drill: ${answer.drill_id ?? "?"} started; the loop switches to ${answer.active_target}, then back once verified (its report: failover history, or failover status)`;
  return drillReportText(answer.report);
}

export function drillReportText(r: DrillReport): string {
  const budget = r.budget_seconds !== undefined ? ` of a ${r.budget_seconds} s budget` : " (the plan sets no recovery_budget_seconds)";
  const head =
    r.mode === "dry_run"
      ? `drill ${r.id}: dry run ${r.result} in ${r.recovery_seconds ?? "?"} s${budget}, ${r.writes} writes`
      : `drill ${r.id}: ${r.result}; recovery ${r.recovery_seconds ?? "-"} s${budget}, switchback ${r.switchback_seconds ?? "-"} s, ${r.writes} writes`;
  const steps = r.steps.map((s) =>
    `  ${s.leg.padEnd(4)} step ${s.step} ${s.kind.padEnd(18)} ${s.status.padEnd(10)} ${s.ms !== undefined ? `${s.ms} ms` : ""}${s.writes ? `, ${s.writes} writes` : ""}`.trimEnd(),
  );
  return [head, ...steps, ...(r.problems ?? []).map((p) => `  problem: ${p}`)].join("\n");
}
