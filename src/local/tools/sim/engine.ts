import { decideApproval, decideHold, decideSwitch, evaluateCheck, standbyCheckDue } from "../../../core/policy";
import type { ProbeResult } from "../../../core/probe";
import { isDeepStrictEqual } from "node:util";
import { initialState, otherTarget, parseRow, toRowProperties, type FailoverState, type Target } from "../../../core/state";
import { parsePlan } from "../../../core/switch/plan";
import type { ApplyResult, VerifyResult } from "../../../core/switch/runPlan";
import { adoptIntent, afterApply, afterVerify, dueAction, isAdoption, withIntent, withLedger } from "../../../core/switch/saga";
import { PENDING_RESULT, parseLedger, type LedgerEntry } from "../../../core/switch/session";
import { AGENT_CALL_MARGIN_MS, CONTROLLER_VANTAGE, judge, noVote, quorumOf, voteOf, type Judgement, type Vote } from "../../../core/vantage";
import { PRIMARY_URL, SECONDARY_URL, T0, inside, regionIsDown, sideDown, sideOutageIn, type Plane, type Random, type Scenario } from "./world";

/**
 * One episode: the controller's loop, cycle after cycle in virtual time, driving the core's
 * own decisions (evaluateCheck, decideSwitch, judge/quorumOf, the switch saga's afterApply /
 * afterVerify / withLedger, the row through toRowProperties and parseRow) through a world of
 * faults, with every invariant checked at every step by an observer that counts the raw votes
 * itself (it never asks the policy what it decided).
 */

/** The decisions under test: the core's, or a deliberately broken wrapper (the tests prove the invariants catch it). */
export interface Decisions {
  readonly evaluateCheck: typeof evaluateCheck;
  readonly decideSwitch: typeof decideSwitch;
  /** False: the saga sends a traffic write before its ledger entry is on the row (the switch cycle's session never does). */
  readonly recordBeforeWrite?: boolean;
}
export const CORE_DECISIONS: Decisions = { evaluateCheck, decideSwitch };

/** The switch plan the sim's traffic plane stands for: one Traffic Manager profile, primary and secondary endpoints. */
const PLAN = parsePlan(
  JSON.stringify({
    steps: [
      {
        kind: "traffic_manager",
        profile_id: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-sim/providers/Microsoft.Network/trafficManagerProfiles/tm-sim",
        primary: { endpoint_type: "ExternalEndpoints", endpoint_name: "primary" },
        secondary: { endpoint_type: "ExternalEndpoints", endpoint_name: "secondary" },
      },
    ],
  }),
  "sim",
);

export interface EpisodeResult {
  readonly cycles: number;
  readonly violations: string[];
  readonly switches: number;
  readonly falseFailovers: number;
  /** Detection (ms): the first switch away from a lost primary, from when it could first be seen. */
  readonly detectionMs?: number;
  readonly boundMs: number;
  /** The bound applied to this episode (the primary lost for good, the standby healthy, a quorum able to vote, the row still on the primary). */
  readonly bounded: boolean;
  /** Traffic writes whose outcome never reached the row (the storage refused the row write after them): on the row as pending. */
  readonly pendingOnly: number;
  readonly blocked: number;
  /** Failovers away from a failing secondary while a failback hold stood (a hold never keeps traffic on a failing side). */
  readonly heldFailovers: number;
  /** Switches in decision_mode approval: approved by the operator, or proposed and unanswered with approval_timeout_action proceed. */
  readonly gatedSwitches: number;
}

function urlOf(side: Target): string {
  return side === "primary" ? PRIMARY_URL : SECONDARY_URL;
}

/** The bound on detection: failure_threshold intervals, the check's and the standby verification's timeouts, and the vantages' lag. */
export function boundMs(s: Scenario): number {
  const p = s.policy;
  const lag = Math.max(0, ...s.vantages.map((v) => v.lagMs));
  return p.failure_threshold * p.check_interval_seconds * 1000 + 2 * (p.probe_timeout_ms + AGENT_CALL_MARGIN_MS) + lag;
}

export function runEpisode(s: Scenario, random: Random, decisions: Decisions = CORE_DECISIONS): EpisodeResult {
  const p = s.policy;
  const intervalMs = p.check_interval_seconds * 1000;
  const quorum = quorumOf(p.quorum, s.vantages.length);
  const timeoutMs = p.probe_timeout_ms + AGENT_CALL_MARGIN_MS;
  const maxLag = Math.max(0, ...s.vantages.map((v) => v.lagMs));
  const bound = boundMs(s);
  const end = T0 + s.cycles * intervalMs;
  const violations: string[] = [];
  const violate = (t: number, what: string) => {
    if (violations.length < 20) violations.push(`t+${((t - T0) / 1000).toFixed(1)} s: ${what}`);
  };

  // The storage: the row as its properties, parsed on every read and after every write.
  let row: Record<string, unknown> = toRowProperties(initialState(PRIMARY_URL, SECONDARY_URL));
  const read = (t: number): FailoverState | undefined => {
    try {
      return parseRow("sim", row).state;
    } catch (err) {
      violate(t, `the row does not parse with the state schema: ${(err as Error).message}`);
      return undefined;
    }
  };
  const audit = new Set<string>();
  // A write's entries (pending before it was sent, its outcome after) share an id.
  const ledgerKey = (e: LedgerEntry) => e.id ?? `${e.intent}|${e.at}|${e.resource}|${e.change}|${e.result}`;
  // Storage faults are looked up at the moment of each write: one can start between a check's write and the switch cycle's.
  const write = (t: number, next: FailoverState): boolean => {
    if (inside(s.storage.writesFail, t) || inside(s.storage.down, t) || (s.storage.writeFailRate > 0 && random() < s.storage.writeFailRate)) return false;
    row = toRowProperties(next);
    const stored = read(t);
    // The loop decides its next check on the state it wrote, without reading it (StateStore.lastWritten): it must read back as itself.
    if (stored && !isDeepStrictEqual(stored, definedFields(next))) violate(t, "a written state does not read back as itself (parseRow(toRowProperties(state)) differs)");
    // The audit: every ledger entry that reached the row (the switch's audit records carry the same ledger).
    if (stored?.switch_ledger) for (const e of parseLedger(stored.switch_ledger).writes) audit.add(ledgerKey(e));
    return true;
  };

  // The traffic plane: the primary endpoint serves, the secondary is disabled.
  const plane: Plane = { enabled: { primary: true, secondary: false } };
  let pendingOnly = 0;
  let writeIds = 0;

  // The observer's own count of the votes: streaks of counted checks a quorum judged down (per active side), and of the primary judged up while on the secondary.
  let downStreak = 0;
  let streakStart = 0;
  let upStreak = 0;
  let lastSwitch: number | undefined;
  let switches = 0;
  let falseFailovers = 0;
  let blocked = 0;
  let detectionMs: number | undefined;
  /** Whether the row was still on the primary when the loop first looked after the primary was lost (else there is nothing to switch). */
  let onPrimaryAtLoss: boolean | undefined;
  /** Cycles after the primary was lost whose check never reached the row (the loop or its storage away): each delays detection by one interval. */
  let lostCycles = 0;
  const tally = (votes: readonly Vote[]) => {
    let down = 0;
    let cast = 0;
    for (const v of votes) {
      if (v.healthy === undefined) continue;
      cast++;
      if (!v.healthy) down++;
    }
    return { down, cast };
  };

  /** Every vantage asked about `side` at t: its vote and how long the slowest took. */
  const ask = (side: Target, t: number): { judged: Judgement; ms: number } => {
    const url = urlOf(side);
    let own: ProbeResult | undefined;
    let ms = 0;
    const votes = s.vantages.map((v): Vote => {
      if (v.name !== CONTROLLER_VANTAGE && (regionIsDown(s, v.region, t) || random() < v.timeoutRate)) {
        ms = Math.max(ms, timeoutMs);
        return noVote(v.name, v.region, timeoutMs, "agent_timeout", `no answer within ${timeoutMs} ms`);
      }
      const seen = t - v.lagMs;
      const reachable = !sideDown(s, side, seen) && !inside(v.cut[side], seen);
      const healthy = v.behaviour === "lies_healthy" ? true : v.behaviour === "lies_unhealthy" ? false : reachable;
      const latency = healthy ? 20 + Math.floor(random() * 80) : v.behaviour === "lies_unhealthy" ? 30 : p.probe_timeout_ms;
      const probe: ProbeResult = healthy
        ? { url, healthy: true, status_code: 200, latency_ms: latency, body_bytes_read: 0 }
        : v.behaviour === "lies_unhealthy"
          ? { url, healthy: false, status_code: 503, latency_ms: latency, error_class: "http_status", error: "status 503 not in 200-299", body_bytes_read: 0 }
          : { url, healthy: false, latency_ms: latency, error_class: "timeout", error: "no complete answer within the probe timeout", body_bytes_read: 0 };
      ms = Math.max(ms, latency + (v.name === CONTROLLER_VANTAGE ? 0 : 50));
      if (v.name === CONTROLLER_VANTAGE) own = probe;
      return voteOf(v.name, v.region, probe);
    });
    return { judged: judge(url, votes, quorum, own), ms };
  };

  /**
   * The saga's apply of the one step against the plane: make-before-break, every write in the
   * ledger, its entry on the row (`base`, as pending) before it is sent, as the switch cycle's
   * session records it; a write whose entry the storage refuses is not sent.
   */
  const apply = (base: FailoverState, t: number): { result: ApplyResult; writes: LedgerEntry[]; row: FailoverState } => {
    const target = base.active_target;
    const intent = base.switch_intent_id ?? "";
    let row = base;
    const writes: LedgerEntry[] = [];
    const steps = (status: "changed" | "unchanged" | "failed", detail: string, error_class?: "server_error" | "timeout") =>
      [{ step: 0, kind: "traffic_manager", label: "traffic_manager tm-sim", status, writes: writes.length, ms: 0, detail, ...(error_class ? { error_class } : {}) }] as ApplyResult["steps"];
    for (const [side, want] of [
      [target, true],
      [otherTarget(target), false],
    ] as const) {
      if (plane.enabled[side] === want) continue;
      const change = want ? "Disabled -> Enabled" : "Enabled -> Disabled";
      const entry: LedgerEntry = {
        id: `w${++writeIds}`,
        at: new Date(t).toISOString(),
        step: "traffic_manager tm-sim",
        method: "PATCH",
        resource: `trafficManagerProfiles/tm-sim/ExternalEndpoints/${side}`,
        change,
        result: PENDING_RESULT,
        intent,
        ms: 0,
      };
      // The broken variant (recordBeforeWrite false) sends the write with nothing on the row.
      if (decisions.recordBeforeWrite !== false) {
        const recorded = withLedger(row, [entry]);
        if (!write(t, recorded)) {
          const error = `${side}: its ledger entry could not be recorded on the row (the storage refused it); the write was not sent`;
          return { result: { outcome: "failed", steps: steps("failed", error, "server_error"), ms: 0, failed_step: 0, error_class: "server_error", error, permanent: false }, writes, row };
        }
        row = recorded;
      }
      const roll = random();
      const down = inside(s.plane.down, t);
      const outcome = down || roll < s.plane.failRate ? "server_error" : roll < s.plane.failRate + s.plane.slowRate ? "timeout" : "ok";
      // A slow write lands, but its answer comes after the call's deadline.
      if (outcome !== "server_error") plane.enabled[side] = want;
      writes.push({ ...entry, result: outcome === "server_error" ? "server_error 503" : outcome });
      if (!plane.enabled.primary && !plane.enabled.secondary) violate(t, `both sides off in the traffic plane after ${change} of ${side}`);
      if (outcome !== "ok") {
        const error_class = outcome === "timeout" ? "timeout" : "server_error";
        return {
          result: { outcome: "failed", steps: steps("failed", `${side}: ${outcome}`, error_class), ms: 0, failed_step: 0, error_class, error: `${side}: ${outcome}`, permanent: false },
          writes,
          row,
        };
      }
    }
    return { result: { outcome: "applied", steps: steps(writes.length > 0 ? "changed" : "unchanged", "done"), ms: 0 }, writes, row };
  };
  const verify = (target: Target): VerifyResult => {
    const ok = plane.enabled[target] && !plane.enabled[otherTarget(target)];
    return {
      outcome: ok ? "verified" : "mismatch",
      steps: [{ step: 0, kind: "traffic_manager", label: "traffic_manager tm-sim", status: ok ? "verified" : "mismatch", detail: JSON.stringify(plane.enabled) }],
    };
  };

  // Failback holds: the next one the operator sets, and the end of the one on the row (as the observer wrote it).
  let nextHold = 0;
  let heldUntil: number | undefined;
  let heldFailovers = 0;

  // The operator's decisions about proposals (decision_mode approval), by proposal id.
  const approved = new Set<string>();
  let gatedSwitches = 0;

  let cycles = 0;
  for (let k = 0; k < s.cycles; k++) {
    const t = T0 + k * intervalMs;
    cycles++;
    // The operator's hold, through the API: read, decide, write; a refused write is tried again at the next cycle.
    while (nextHold < s.holds.length && s.holds[nextHold][1] <= t) nextHold++;
    if (nextHold < s.holds.length && s.holds[nextHold][0] <= t && !inside(s.storage.down, t)) {
      const [, until] = s.holds[nextHold];
      const before = read(t);
      if (before && write(t, decideHold(before, { until: new Date(until), reason: "sim: replica resync", owner: "operator" }, new Date(t)).next)) {
        heldUntil = until;
        nextHold++;
      }
    }
    // The operator answers a waiting proposal through the API (read, decide, write), a while after it was made.
    if (s.operator && !inside(s.storage.down, t)) {
      const before = read(t);
      const id = before?.proposal_id;
      if (before?.proposal_state === "pending" && id !== undefined && t >= Date.parse(before.proposal_created_utc ?? "") + s.operator.answerAfterMs) {
        const decided = decideApproval(before, { proposal_id: id, approve: s.operator.approve, reason: "sim: operator", actor: "operator" }, new Date(t));
        if ("problem" in decided) violate(t, `the operator's ${s.operator.approve ? "approval" : "rejection"} of the waiting proposal ${id} was refused: ${decided.problem}`);
        else if (write(t, decided.next) && s.operator.approve) approved.add(id);
      }
    }
    // The controller's region lost: its loop, its storage and its own probe with it. Nothing is decided.
    const lossPending = s.primaryLostAt !== undefined && t >= s.primaryLostAt && detectionMs === undefined;
    if (regionIsDown(s, s.regions.controller, t) || inside(s.storage.down, t)) {
      if (lossPending) lostCycles++;
      continue;
    }
    const state = read(t);
    if (!state) break;
    const active = state.active_target;
    if (s.primaryLostAt !== undefined && t >= s.primaryLostAt && onPrimaryAtLoss === undefined) onPrimaryAtLoss = active === "primary";
    const standbySide = otherTarget(active);

    // The check: the active side, and the standby when due, judged by the vantages.
    const a = ask(active, t);
    const b = standbyCheckDue(state, p, new Date(t)) ? ask(standbySide, t) : undefined;
    const outcome = decisions.evaluateCheck(state, { active: a.judged.probe, ...(b ? { standby: b.judged.probe } : {}), activeVotes: a.judged.votes }, p, new Date(t), new Date(t).toISOString());
    const checked: FailoverState = {
      ...outcome.next,
      last_votes: a.judged.votes.length > 1 ? a.judged.votes : undefined,
      ...(b && b.judged.votes.length > 1 ? { standby_votes: b.judged.votes } : {}),
    };
    if (!write(t, checked)) {
      if (lossPending) lostCycles++;
      continue;
    }
    // A hold ends by itself: the first check at or after its end that reaches the row releases it.
    if (heldUntil !== undefined && t >= heldUntil) {
      if (checked.hold_until_utc !== undefined) violate(t, `a failback hold still on the row after its end (${new Date(heldUntil).toISOString()})`);
      heldUntil = undefined;
    }
    // Every proposal is audited, and one about a failover never outlives a check a quorum judged the active side healthy.
    if (checked.proposal_id !== undefined && checked.proposal_id !== state.proposal_id && !outcome.transitions.some((x) => x.kind === "approval_requested" || x.kind === "switch_recommended"))
      violate(t, `proposal ${checked.proposal_id} made without an audit entry`);
    // The observer counts this check (it reached the row).
    const av = tally(a.judged.votes);
    if (av.cast >= quorum && av.down < quorum && checked.proposal_kind === "failover" && (checked.proposal_state === "pending" || checked.proposal_state === "approved"))
      violate(t, `a ${checked.proposal_state} failover proposal outlived a check that found the ${active} healthy (it goes stale)`);
    if (av.down >= quorum) {
      if (downStreak === 0) streakStart = t;
      downStreak++;
    } else if (av.cast >= quorum) downStreak = 0;
    if (active === "secondary" && b) {
      const bv = tally(b.judged.votes);
      if (bv.cast >= quorum && bv.down < quorum) upStreak++;
      else if (bv.down >= quorum) upStreak = 0;
    }
    let current = checked;
    let now = t + Math.max(a.ms, b?.ms ?? 0);
    // A hold never keeps traffic on a failing side: on the secondary, held, the threshold reached by
    // the observer's count and no cooldown, the policy owes a failover (the standby's health decides it).
    const owedFailover =
      active === "secondary" && heldUntil !== undefined && t < heldUntil && downStreak >= p.failure_threshold && (lastSwitch === undefined || t - lastSwitch >= p.cooldown_seconds * 1000);
    const heldOnFailingSide = () => violate(t, `a failback hold kept traffic on the failing secondary (${downStreak} checks a quorum saw it down, threshold ${p.failure_threshold})`);
    if (owedFailover && outcome.recommendation === "none") heldOnFailingSide();

    // The switch, when the check recommends one: the standby verified by the vantages first.
    if (outcome.recommendation !== "none") {
      const kind = outcome.recommendation;
      const v = ask(standbySide, now);
      now += v.ms;
      const decided = decisions.decideSwitch(current, { kind, expected_from: active, force: false, automatic: true, reason: outcome.reason, actor: "orchestrator" }, v.judged.probe, p, new Date(now));
      if (owedFailover && !decided.next) heldOnFailingSide();
      const proposal = { id: current.proposal_id, state: current.proposal_state, expires: current.proposal_expires_utc };
      if (decided.next) {
        const detected = new Date(current.unhealthy_since_utc ?? now);
        const next = decided.changed ? withIntent(decided.next, PLAN, new Date(now), detected) : decided.next;
        if (write(now, next)) {
          current = next;
          if (!decided.changed) blocked++;
          else {
            switches++;
            if (p.decision_mode !== "automatic") {
              const { id } = proposal;
              const timedOut = proposal.state === "pending" && p.approval_timeout_action === "proceed" && t >= Date.parse(proposal.expires ?? "");
              if (p.decision_mode === "approval" && id !== undefined && (approved.has(id) || timedOut)) gatedSwitches++;
              else violate(now, `automatic ${kind} in decision_mode ${p.decision_mode} without an approval (proposal ${id ?? "none"}: ${proposal.state ?? "none"})`);
            }
            const sv = tally(v.judged.votes);
            if (kind === "failover" && downStreak < p.failure_threshold)
              violate(now, `failover from ${active} after ${downStreak} checks a quorum (${quorum}) saw unhealthy, threshold ${p.failure_threshold}`);
            if (kind === "failback" && upStreak < p.recovery_threshold) violate(now, `failback after ${upStreak} checks a quorum saw the primary healthy, recovery threshold ${p.recovery_threshold}`);
            if (kind === "failback" && heldUntil !== undefined && now < heldUntil) violate(now, `automatic failback while a failback hold stands (until ${new Date(heldUntil).toISOString()})`);
            if (kind === "failover" && active === "secondary" && heldUntil !== undefined && now < heldUntil) heldFailovers++;
            if (sv.cast < quorum || sv.down >= quorum) violate(now, `switch to ${standbySide}, which the vantages did not judge healthy (${sv.down} down of ${sv.cast} votes, quorum ${quorum})`);
            if (lastSwitch !== undefined && now - lastSwitch < p.cooldown_seconds * 1000)
              violate(now, `two switches ${(now - lastSwitch) / 1000} s apart, inside the cooldown of ${p.cooldown_seconds} s`);
            if (kind === "failover" && !sideOutageIn(s, active, streakStart - maxLag, now)) {
              falseFailovers++;
              if (s.noFalseFailover) violate(now, `false failover: the ${active} had no outage since its streak began at t+${(streakStart - T0) / 1000} s`);
            }
            if (kind === "failover" && active === "primary" && s.primaryLostAt !== undefined && now >= s.primaryLostAt && detectionMs === undefined) detectionMs = now - s.primaryLostAt;
            lastSwitch = now;
            downStreak = 0;
            upStreak = 0;
          }
        }
      }
    }

    // The switch cycle: the saga resumes from the row (adopt, apply then verify at once, or verify), its writes in the ledger.
    const action = dueAction(current, PLAN, new Date(now));
    // The switch cycle reads the row first (and its fence reads it before every write): nothing happens while the storage is unreachable.
    if ((action === "apply" || action === "verify") && !inside(s.storage.down, now)) {
      const adopting = isAdoption(current, PLAN);
      let next = adoptIntent(current, PLAN, new Date(now));
      let writes: LedgerEntry[] = [];
      if (action === "apply") {
        const applied = apply(next, now);
        writes = applied.writes;
        next = afterApply(applied.row, applied.result, new Date(now), PLAN);
        if (applied.result.outcome === "applied") next = afterVerify(next, verify(next.active_target), new Date(now), PLAN);
      } else next = afterVerify(next, verify(next.active_target), new Date(now), PLAN, adopting);
      next = withLedger(next, writes);
      const recorded = write(now, next);
      for (const w of writes) {
        if (!recorded) pendingOnly++;
        if (!audit.has(ledgerKey(w))) violate(now, `traffic write without a ledger entry: ${w.method} ${w.resource} ${w.change} (${w.result})`);
      }
    }
    if (!plane.enabled.primary && !plane.enabled.secondary) violate(now, "both sides off in the traffic plane");
  }

  // A lost primary ends in a switch within the bound, when the standby is healthy and a quorum can vote.
  const away = lostCycles * intervalMs;
  const measured = detectionMs === undefined ? undefined : detectionMs - away;
  const bounded = s.expectSwitch && s.primaryLostAt !== undefined && onPrimaryAtLoss !== false;
  if (bounded) {
    if (measured === undefined ? end - s.primaryLostAt - away > bound : measured > bound)
      violate(
        s.primaryLostAt,
        `the primary was lost and ${measured === undefined ? "no switch followed" : `the switch came ${measured / 1000} s later`} (not counting ${lostCycles} cycles the loop or its storage was away), bound ${bound / 1000} s`,
      );
  }
  return { cycles, violations, switches, falseFailovers, ...(measured !== undefined ? { detectionMs: measured } : {}), boundMs: bound, bounded, pendingOnly, blocked, heldFailovers, gatedSwitches };
}

/** The state without its undefined fields (a row stores none of them). */
function definedFields(state: FailoverState): Record<string, unknown> {
  return Object.fromEntries(Object.entries(state).filter(([, v]) => v !== undefined));
}
