import { appConfigurationStep } from "./appConfigurationStep";
import type { SwitchClients } from "./clients";
import { dataPathStep } from "./dataPathStep";
import { dnsStep } from "./dnsStep";
import { frontDoorStep } from "./frontDoorStep";
import { RESOURCE_ID, parseResourceId, planSteps, type StageLayout, type SwitchPlan, type SwitchStepConfig } from "./plan";
import type { SwitchSession } from "./session";
import type { Side, SwitchContext, SwitchStepRunner } from "./step";
import { StepError, isPermanent, toStepError, type StepErrorClass } from "./stepErrors";
import { cosmosDbStep } from "./cosmosDbStep";
import { sqlFailoverGroupStep } from "./sqlFailoverGroupStep";
import { storageAccountStep } from "./storageAccountStep";
import { trafficManagerStep } from "./trafficManagerStep";
import { webhookStep } from "./webhookStep";

/**
 * Runs a switch plan's steps in order: apply (stopping at the first error, which names the
 * step, its error class and the service's message, or at a step that waits for its change to
 * finish), compensation (the applied steps undone in reverse order), verify, readiness and
 * drift. Every step is desired-state, so running the whole plan again after a failure redoes
 * nothing that was done. Every call goes through the cycle's session: deadline, fence, ledger.
 */

/** A step's short name in messages, the audit log and the ledger. */
export function stepLabel(step: SwitchStepConfig): string {
  switch (step.kind) {
    case "traffic_manager":
      return `traffic_manager ${parseResourceId(RESOURCE_ID.trafficManagerProfile, step.profile_id).name}`;
    case "dns":
      return `dns ${step.record_type} ${step.record_name}.${parseResourceId(RESOURCE_ID.dnsZone, step.zone_id).name}`;
    case "front_door":
      return `front_door ${parseResourceId(RESOURCE_ID.frontDoorProfile, step.profile_id).name}/${step.origin_group}`;
    case "app_configuration":
      return `app_configuration ${new URL(step.endpoint).host} ${step.key}${step.label ? ` (${step.label})` : ""}`;
    case "sql_failover_group":
      return `sql_failover_group ${step.failover_group}`;
    case "cosmos_db":
      return `cosmos_db ${parseResourceId(RESOURCE_ID.cosmosAccount, step.account_id).name}`;
    case "storage_account":
      return `storage_account ${parseResourceId(RESOURCE_ID.storageAccount, step.account_id).name}`;
    case "webhook":
      return `webhook ${new URL(step.url).host}`;
  }
}

export function buildRunner(step: SwitchStepConfig, clients: SwitchClients, session: SwitchSession): SwitchStepRunner {
  const calls = session.calls(stepLabel(step));
  switch (step.kind) {
    case "traffic_manager":
      return trafficManagerStep(step, clients, calls);
    case "dns":
      return dnsStep(step, clients, calls);
    case "front_door":
      return frontDoorStep(step, clients, calls);
    case "app_configuration":
      return appConfigurationStep(step, clients, calls);
    case "sql_failover_group":
      return sqlFailoverGroupStep(step, clients, calls);
    case "cosmos_db":
      return cosmosDbStep(step, clients, calls);
    case "storage_account":
      return storageAccountStep(step, clients, calls);
    case "webhook":
      return webhookStep(step, clients.fetch, calls);
  }
}

/** The plan's steps in order, then its data-path probe (if any), which only reads. */
export function buildRunners(plan: SwitchPlan, clients: SwitchClients, session: SwitchSession): SwitchStepRunner[] {
  const steps = planSteps(plan).map((step) => buildRunner(step, clients, session));
  return plan.data_path ? [...steps, dataPathStep(plan.data_path, clients.fetch, session.calls(`data_path ${new URL(plan.data_path.url).host}`))] : steps;
}

export interface StepResult {
  readonly step: number;
  readonly kind: string;
  readonly label: string;
  readonly status: "unchanged" | "changed" | "pending" | "failed" | "compensated";
  readonly writes: number;
  readonly ms: number;
  readonly detail: string;
  readonly error_class?: StepErrorClass;
}

export interface ApplyResult {
  /**
   * applied: every step done; pending: a step waits for its change to finish (see `pending`),
   * later steps not run; failed: a step failed (`permanent` says whether retrying can help);
   * superseded: the row's intent changed meanwhile and the apply stopped before writing more.
   */
  readonly outcome: "applied" | "pending" | "failed" | "superseded";
  readonly steps: StepResult[];
  readonly ms: number;
  readonly failed_step?: number;
  readonly error_class?: StepErrorClass;
  readonly error?: string;
  readonly retry_after_ms?: number;
  readonly permanent?: boolean;
  /** What the pending step waits for. */
  readonly pending?: string;
}

/** One step's apply within its timeout (when its stage sets one): its result, or the error it failed with. */
async function applyStep(
  runner: SwitchStepRunner,
  index: number,
  context: SwitchContext,
  now: () => number,
  timeoutMs: number | undefined,
): Promise<{ result: StepResult; error?: StepError; pending?: string }> {
  const t0 = now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const deadline =
      timeoutMs === undefined
        ? undefined
        : new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new StepError("timeout", `the step did not finish within its stage's timeout_seconds (${timeoutMs / 1000} s)`)), timeoutMs);
          });
    const outcome = await (deadline ? Promise.race([runner.apply(context), deadline]) : runner.apply(context));
    return {
      result: {
        step: index,
        kind: runner.kind,
        label: runner.label,
        status: outcome.pending ? "pending" : outcome.writes ? "changed" : "unchanged",
        writes: outcome.writes,
        ms: now() - t0,
        detail: outcome.pending ? `${outcome.detail}; waiting: ${outcome.pending}` : outcome.detail,
      },
      ...(outcome.pending ? { pending: `step ${index} (${runner.label}): ${outcome.pending}` } : {}),
    };
  } catch (err) {
    const e = toStepError(err, runner.label, now());
    return { result: { step: index, kind: runner.kind, label: runner.label, status: "failed", writes: 0, ms: now() - t0, detail: e.message, error_class: e.errorClass }, error: e };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/**
 * Applies the plan stage by stage (`layout`; absent: one step after the other); the steps of a
 * stage in parallel, each make-before-break on its own resource. The next stage starts only when
 * every step of this one is done: a step still deploying makes the apply pending, a failure
 * stops it (the stage's other steps finish first). A data-path runner after the plan's steps is a
 * stage of its own, last.
 */
export async function applyPlan(runners: readonly SwitchStepRunner[], context: SwitchContext, now: () => number = Date.now, layout?: StageLayout): Promise<ApplyResult> {
  const started = now();
  const steps: StepResult[] = [];
  for (const stage of stagesOf(runners.length, layout)) {
    const results = await Promise.all(stage.map((index) => applyStep(runners[index], index, context, now, layout?.timeoutsMs[index])));
    steps.push(...results.map((r) => r.result));
    const superseded = results.find((r) => r.error?.errorClass === "superseded");
    if (superseded) return { outcome: "superseded", steps, ms: now() - started, error: superseded.error!.message, error_class: "superseded" };
    // A permanent failure in the stage decides (hold or compensate); else the first transient one is retried.
    const failed = results.find((r) => r.error && isPermanent(r.error.errorClass)) ?? results.find((r) => r.error);
    if (failed?.error) {
      const e = failed.error;
      return {
        outcome: "failed",
        steps,
        ms: now() - started,
        failed_step: failed.result.step,
        error_class: e.errorClass,
        error: `step ${failed.result.step} (${failed.result.label}): ${e.message}`,
        permanent: isPermanent(e.errorClass),
        ...(e.retryAfterMs !== undefined ? { retry_after_ms: e.retryAfterMs } : {}),
      };
    }
    const pending = results.find((r) => r.pending);
    if (pending) return { outcome: "pending", steps, ms: now() - started, pending: pending.pending! };
  }
  return { outcome: "applied", steps, ms: now() - started };
}

/** The stages of `count` runners: the layout's, then any runner it does not place (the data path) as a stage of its own. */
function stagesOf(count: number, layout: StageLayout | undefined): number[][] {
  const stages = (layout?.stages ?? []).map((stage) => stage.filter((i) => i < count));
  const placed = new Set(stages.flat());
  for (let i = 0; i < count; i++) if (!placed.has(i)) stages.push([i]);
  return stages.filter((stage) => stage.length > 0);
}

/** The last step of the stage that holds `step`: a compensation undoes every step up to it (a stage's steps ran together). */
export function stageEnd(layout: StageLayout | undefined, step: number): number {
  const stage = layout?.stages.find((st) => st.includes(step));
  return stage ? Math.max(...stage) : step;
}

export interface CompensationResult {
  /** Every step from the failed one back to the first is on the old side again (some may still be deploying: `pending`). */
  readonly complete: boolean;
  /** A step is still waiting for its change to finish, or failed transiently: the next cycle compensates again. */
  readonly pending: boolean;
  readonly steps: StepResult[];
  /** The steps that could not be undone (a permanent error), with their errors. */
  readonly errors: string[];
  readonly superseded: boolean;
}

/**
 * Undoes a failed apply: the steps from the failed one back to the first, in reverse order,
 * each applied for the side the switch moved away from (make-before-break within each step:
 * the old side is enabled again before the new one is disabled). A step that cannot be undone
 * is recorded and the others are still undone; a superseded intent stops at once.
 */
export async function compensatePlan(runners: readonly SwitchStepRunner[], context: SwitchContext, failedStep: number, now: () => number = Date.now): Promise<CompensationResult> {
  const back: SwitchContext = { ...context, from: context.to, to: context.from };
  const steps: StepResult[] = [];
  const errors: string[] = [];
  let pending = false;
  for (let index = Math.min(failedStep, runners.length - 1); index >= 0; index--) {
    const runner = runners[index];
    const t0 = now();
    try {
      const outcome = await runner.apply(back);
      pending ||= outcome.pending !== undefined;
      steps.push({
        step: index,
        kind: runner.kind,
        label: runner.label,
        status: outcome.pending ? "pending" : "compensated",
        writes: outcome.writes,
        ms: now() - t0,
        detail: outcome.pending ? `${outcome.detail}; waiting: ${outcome.pending}` : outcome.detail,
      });
    } catch (err) {
      const e = toStepError(err, runner.label, now());
      steps.push({ step: index, kind: runner.kind, label: runner.label, status: "failed", writes: 0, ms: now() - t0, detail: e.message, error_class: e.errorClass });
      if (e.errorClass === "superseded") return { complete: false, pending, steps, errors: [...errors, e.message], superseded: true };
      // A transient error is tried again on the next cycle; a permanent one leaves the step as it is.
      if (isPermanent(e.errorClass)) errors.push(`step ${index} (${runner.label}): ${e.message}`);
      else pending = true;
    }
  }
  return { complete: errors.length === 0, pending, steps, errors, superseded: false };
}

export interface VerifiedStep {
  readonly step: number;
  readonly kind: string;
  readonly label: string;
  readonly status: string;
  readonly detail: string;
  readonly error_class?: StepErrorClass;
}

export interface VerifyResult {
  readonly outcome: "verified" | "propagating" | "mismatch" | "error";
  readonly steps: readonly VerifiedStep[];
}

export async function verifyPlan(runners: readonly SwitchStepRunner[], context: SwitchContext, now: () => number = Date.now): Promise<VerifyResult> {
  const steps: VerifiedStep[] = [];
  for (const [index, runner] of runners.entries()) {
    try {
      const v = await runner.verify(context);
      steps.push({ step: index, kind: runner.kind, label: runner.label, status: v.status, detail: v.detail });
    } catch (err) {
      const e = toStepError(err, runner.label, now());
      steps.push({ step: index, kind: runner.kind, label: runner.label, status: "error", detail: e.message, error_class: e.errorClass });
    }
  }
  const worst = (["error", "mismatch", "propagating"] as const).find((s) => steps.some((x) => x.status === s));
  return { outcome: worst ?? "verified", steps };
}

export interface ReadinessResult {
  readonly ready: boolean;
  readonly problems: string[];
}

export async function checkReadiness(runners: readonly SwitchStepRunner[], budgetSeconds?: number): Promise<ReadinessResult> {
  const problems: string[] = [];
  for (const [index, runner] of runners.entries()) {
    const r = await runner.readiness(budgetSeconds).catch((err: unknown) => ({ ready: false, problems: [(err as Error).message] }));
    problems.push(...r.problems.map((p) => `step ${index}: ${p}`));
  }
  return { ready: problems.length === 0, problems };
}

export interface Drift {
  readonly step: number;
  readonly label: string;
  readonly expected: Side;
  readonly actual: string;
  readonly detail: string;
}

/** Steps whose resource does not serve the expected side. Unreadable steps are reported as errors, not drift. */
export async function detectDrift(runners: readonly SwitchStepRunner[], expected: Side, now: () => number = Date.now): Promise<{ drifts: Drift[]; errors: string[] }> {
  const drifts: Drift[] = [];
  const errors: string[] = [];
  for (const [index, runner] of runners.entries()) {
    try {
      const a = await runner.actual();
      if (a.side !== "unknown" && a.side !== expected) drifts.push({ step: index, label: runner.label, expected, actual: a.side, detail: a.detail });
    } catch (err) {
      errors.push(`step ${index}: ${toStepError(err, runner.label, now()).message}`);
    }
  }
  return { drifts, errors };
}
