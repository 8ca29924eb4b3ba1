import { seededRandom } from "../../host/chaos";
import { runEpisode, type Decisions } from "./engine";
import { FAMILIES, type Family } from "./families";

/**
 * npm run sim: a seeded, deterministic simulation in virtual time of the controller's loop
 * (the core's own policy, quorum, row schema and switch saga) through scenario families of
 * faults, every invariant checked at every step. See docs/sim.md.
 *
 *   npm run sim                                         1,000,000 cycles over every family, seed 1
 *   npm run sim -- --seed 7 --cycles 50000 --family chaos
 */

/** Cycles of one episode (one world drawn from the family); a family runs as many episodes as its share of the cycles needs. */
export const EPISODE_CYCLES = 240;

export interface SimOptions {
  readonly seed: number;
  readonly cycles: number;
  /** Family names; all when absent. */
  readonly families?: readonly string[];
  readonly decisions?: Decisions;
  readonly progress?: (line: string) => void;
}

export interface FamilyReport {
  readonly name: string;
  readonly what: string;
  readonly noFalseFailover: boolean;
  episodes: number;
  cycles: number;
  switches: number;
  blocked: number;
  falseFailovers: number;
  violations: number;
  /** Traffic writes whose outcome never reached the row (see EpisodeResult.pendingOnly). */
  pendingOnly: number;
  /** Failovers away from a failing secondary while a failback hold stood (see EpisodeResult.heldFailovers). */
  heldFailovers: number;
  /** Switches in decision_mode approval, approved or unanswered with proceed (see EpisodeResult.gatedSwitches). */
  gatedSwitches: number;
  /** Detection times (ms) of the episodes where the bound applied (see EpisodeResult.bounded), and each one's ratio to its bound. */
  readonly detections: number[];
  readonly ratios: number[];
  /** Episodes where the bound applied. */
  expected: number;
  /** Detection times (ms) of the other episodes where the primary was lost and a switch followed (no bound: a quorum could not always vote, a cooldown held). */
  readonly unbounded: number[];
}

export interface Violation {
  readonly family: string;
  readonly episode: number;
  readonly what: string;
  readonly replay: string;
}

export interface SimResult {
  readonly seed: number;
  readonly cycles: number;
  readonly families: FamilyReport[];
  readonly violations: Violation[];
  readonly wallSeconds: number;
}

/** FNV-1a of the parts: each episode's seed depends only on (seed, family, episode), so a family replays alone. */
export function episodeSeed(seed: number, family: string, episode: number): number {
  let h = 0x811c9dc5;
  for (const ch of `${seed}|${family}|${episode}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

export function replayCommand(seed: number, family: string, episode: number): string {
  return `npm run sim -- --seed ${seed} --family ${family} --cycles ${(episode + 1) * EPISODE_CYCLES}`;
}

export function selectFamilies(names?: readonly string[]): Family[] {
  if (!names || names.length === 0) return [...FAMILIES];
  return names.map((n) => {
    const found = FAMILIES.find((f) => f.name === n);
    if (!found) throw new Error(`no family "${n}"; the families: ${FAMILIES.map((f) => f.name).join(", ")}`);
    return found;
  });
}

export function runSim(options: SimOptions): SimResult {
  const started = performance.now();
  const families = selectFamilies(options.families);
  const episodes = Math.max(1, Math.ceil(options.cycles / families.length / EPISODE_CYCLES));
  const reports: FamilyReport[] = [];
  const violations: Violation[] = [];
  let cycles = 0;
  let lastProgress = started;
  for (const family of families) {
    const report: FamilyReport = {
      name: family.name,
      what: family.what,
      noFalseFailover: true,
      episodes: 0,
      cycles: 0,
      switches: 0,
      blocked: 0,
      falseFailovers: 0,
      violations: 0,
      pendingOnly: 0,
      heldFailovers: 0,
      gatedSwitches: 0,
      detections: [],
      ratios: [],
      expected: 0,
      unbounded: [],
    };
    for (let e = 0; e < episodes; e++) {
      const random = seededRandom(episodeSeed(options.seed, family.name, e));
      const scenario = family.build(random, EPISODE_CYCLES);
      const result = runEpisode(scenario, random, options.decisions);
      (report as { noFalseFailover: boolean }).noFalseFailover &&= scenario.noFalseFailover;
      report.episodes++;
      report.cycles += result.cycles;
      report.switches += result.switches;
      report.blocked += result.blocked;
      report.falseFailovers += result.falseFailovers;
      report.pendingOnly += result.pendingOnly;
      report.heldFailovers += result.heldFailovers;
      report.gatedSwitches += result.gatedSwitches;
      report.violations += result.violations.length;
      if (result.bounded) report.expected++;
      if (result.detectionMs !== undefined && result.bounded) {
        report.detections.push(result.detectionMs);
        report.ratios.push(result.detectionMs / result.boundMs);
      } else if (result.detectionMs !== undefined) report.unbounded.push(result.detectionMs);
      for (const what of result.violations) violations.push({ family: family.name, episode: e, what, replay: replayCommand(options.seed, family.name, e) });
      cycles += result.cycles;
      if (options.progress && performance.now() - lastProgress > 5000) {
        lastProgress = performance.now();
        options.progress(`sim: ${cycles.toLocaleString("en-US")} cycles, ${family.name}, ${rate(cycles, started)} cycles/s, violations ${violations.length}`);
      }
    }
    reports.push(report);
  }
  return { seed: options.seed, cycles, families: reports, violations, wallSeconds: (performance.now() - started) / 1000 };
}

function rate(cycles: number, started: number): string {
  return Math.round(cycles / ((performance.now() - started) / 1000)).toLocaleString("en-US");
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** The report: one line per family, then the totals. */
export function reportLines(result: SimResult): string[] {
  const lines = [
    `${"family".padEnd(28)} ${"episodes".padStart(8)} ${"cycles".padStart(8)} ${"switches".padStart(8)} ${"blocked".padStart(7)} ${"false".padStart(5)} ${"viol".padStart(4)}  detection p50 / max s, max / bound`,
  ];
  for (const f of result.families) {
    const sorted = [...f.detections].sort((a, b) => a - b);
    const others = [...f.unbounded].sort((a, b) => a - b);
    const seconds = (xs: number[]) => `${(percentile(xs, 0.5) / 1000).toFixed(1)} / ${(xs.at(-1)! / 1000).toFixed(1)} s`;
    const detection = [
      ...(sorted.length > 0 ? [`${seconds(sorted)}, ${Math.max(...f.ratios).toFixed(2)} (${sorted.length} of ${f.expected} lost primaries switched within the bound)`] : []),
      ...(others.length > 0 ? [`no bound: ${seconds(others)} (${others.length})`] : []),
    ].join("; ");
    const falses = `${f.falseFailovers}${f.noFalseFailover ? "" : "*"}`;
    lines.push(
      `${f.name.padEnd(28)} ${String(f.episodes).padStart(8)} ${String(f.cycles).padStart(8)} ${String(f.switches).padStart(8)} ${String(f.blocked).padStart(7)} ${falses.padStart(5)} ${String(f.violations).padStart(4)}  ${detection || "-"}`,
    );
  }
  const pending = result.families.reduce((n, f) => n + f.pendingOnly, 0);
  const heldFailovers = result.families.reduce((n, f) => n + f.heldFailovers, 0);
  const gated = result.families.reduce((n, f) => n + f.gatedSwitches, 0);
  lines.push("* false failovers expected with this quorum (one vantage decides); not a violation");
  lines.push(
    `sim: cycles ${result.cycles.toLocaleString("en-US")}, families ${result.families.length}, violations ${result.violations.length}, ` +
      `time ${result.wallSeconds.toFixed(1)} s, ${Math.round(result.cycles / result.wallSeconds).toLocaleString("en-US")} cycles/s, seed ${result.seed}; ` +
      `traffic writes on the row only as pending, their outcome refused by the storage (each recorded before it was sent): ${pending}; ` +
      `failovers away from a failing secondary while a failback hold stood: ${heldFailovers}; ` +
      `switches in decision_mode approval, each approved or unanswered with proceed: ${gated}`,
  );
  return lines;
}

export function parseArgs(argv: readonly string[]): { seed: number; cycles: number; families?: string[] } {
  let seed = 1;
  let cycles = 1_000_000;
  const families: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === "--seed" && value !== undefined && /^\d+$/.test(value)) seed = Number(value);
    else if (flag === "--cycles" && value !== undefined && /^\d+$/.test(value) && Number(value) > 0) cycles = Number(value);
    else if (flag === "--family" && value !== undefined) families.push(...value.split(","));
    else throw new Error(`usage: sim [--seed N] [--cycles N] [--family name[,name]]... (got "${flag}${value !== undefined ? ` ${value}` : ""}"); families: ${FAMILIES.map((f) => f.name).join(", ")}`);
    i++;
  }
  return { seed, cycles, ...(families.length > 0 ? { families } : {}) };
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const families = selectFamilies(args.families);
  console.log(`sim: seed ${args.seed}, ${args.cycles.toLocaleString("en-US")} cycles over ${families.length} families (episodes of ${EPISODE_CYCLES} cycles), virtual time`);
  const result = runSim({ ...args, progress: (line) => console.log(line) });
  for (const line of reportLines(result)) console.log(line);
  const shown = new Set<string>();
  for (const v of result.violations.slice(0, 20)) {
    console.log(`sim: VIOLATION ${v.family} episode ${v.episode}: ${v.what}`);
    if (!shown.has(v.replay)) console.log(`sim: replay: ${v.replay}`);
    shown.add(v.replay);
  }
  if (result.violations.length > 0) process.exitCode = 1;
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    console.error(`sim: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
