import { appConfigurationStep } from "./appConfigurationStep";
import type { SwitchClients } from "./clients";
import { dataPathStep } from "./dataPathStep";
import { dnsStep } from "./dnsStep";
import { frontDoorStep } from "./frontDoorStep";
import type { SwitchPlan, SwitchStepConfig } from "./plan";
import type { Side, SwitchContext, SwitchStepRunner } from "./step";
import { toStepError, type StepErrorClass } from "./stepErrors";
import { trafficManagerStep } from "./trafficManagerStep";
import { webhookStep } from "./webhookStep";

/**
 * Runs a switch plan's steps in order: apply (stopping at the first error, which names the
 * step, its error class and the service's message), verify, readiness and drift. Every step is
 * desired-state, so running the whole plan again after a failure redoes nothing that was done.
 */

export function buildRunner(step: SwitchStepConfig, clients: SwitchClients, now: () => number): SwitchStepRunner {
  switch (step.kind) {
    case "traffic_manager":
      return trafficManagerStep(step, clients, now);
    case "dns":
      return dnsStep(step, clients, now);
    case "front_door":
      return frontDoorStep(step, clients, now);
    case "app_configuration":
      return appConfigurationStep(step, clients, now);
    case "webhook":
      return webhookStep(step, clients.fetch, now);
  }
}

/** The plan's steps in order, then its data-path probe (if any), which only reads. */
export function buildRunners(plan: SwitchPlan, clients: SwitchClients, now: () => number = Date.now): SwitchStepRunner[] {
  const steps = plan.steps.map((step) => buildRunner(step, clients, now));
  return plan.data_path ? [...steps, dataPathStep(plan.data_path, clients.fetch, now)] : steps;
}

export interface StepResult {
  readonly step: number;
  readonly kind: string;
  readonly label: string;
  readonly status: "unchanged" | "changed" | "failed";
  readonly writes: number;
  readonly ms: number;
  readonly detail: string;
  readonly error_class?: StepErrorClass;
}

export interface ApplyResult {
  readonly outcome: "applied" | "failed";
  readonly steps: StepResult[];
  readonly ms: number;
  readonly failed_step?: number;
  readonly error_class?: StepErrorClass;
  readonly error?: string;
  readonly retry_after_ms?: number;
}

export async function applyPlan(runners: readonly SwitchStepRunner[], context: SwitchContext, now: () => number = Date.now): Promise<ApplyResult> {
  const started = now();
  const steps: StepResult[] = [];
  for (const [index, runner] of runners.entries()) {
    const t0 = now();
    try {
      const outcome = await runner.apply(context);
      steps.push({ step: index, kind: runner.kind, label: runner.label, status: outcome.writes ? "changed" : "unchanged", writes: outcome.writes, ms: now() - t0, detail: outcome.detail });
    } catch (err) {
      const e = toStepError(err, runner.label, now());
      steps.push({ step: index, kind: runner.kind, label: runner.label, status: "failed", writes: 0, ms: now() - t0, detail: e.message, error_class: e.errorClass });
      return { outcome: "failed", steps, ms: now() - started, failed_step: index, error_class: e.errorClass, error: `step ${index} (${runner.label}): ${e.message}`, ...(e.retryAfterMs !== undefined ? { retry_after_ms: e.retryAfterMs } : {}) };
    }
  }
  return { outcome: "applied", steps, ms: now() - started };
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
