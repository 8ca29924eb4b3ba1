import { z } from "zod";
import { addSeconds } from "./clock";
import { groupNameSchema } from "./config";
import type { HealthCheckResponse, SwitchCycleResponse, SwitchTargetResponse } from "./operations";

/**
 * The contract between the orchestrator, its activities and the clients that start and wake
 * it: registered names, input schemas, the singleton rule and the custom status. Nothing here
 * knows about Azure Functions; it is data and decisions.
 */

export const ORCHESTRATOR_NAME = "failover_orchestrator";
export const HEALTH_CHECK_ACTIVITY = "health_check";
export const DO_FAILOVER_ACTIVITY = "do_failover";
export const RECORD_ERROR_ACTIVITY = "record_check_error";
/** Applies and verifies the group's switch plan when the row says a switch is pending (every cycle). */
export const SWITCH_CYCLE_ACTIVITY = "switch_cycle";
/** Delivers the group's pending notifications from the audit outbox (every cycle, when a webhook is configured). */
export const DELIVER_NOTIFICATIONS_ACTIVITY = "deliver_notifications";
/** Raised after every control action so the orchestration checks at once instead of at the next timer. */
export const WAKE_EVENT = "wake";

/** One singleton orchestration per group, under a fixed instance id. */
export function instanceIdFor(group: string): string {
  return `failover-${group}`;
}

const MAX_CYCLE = 1_000_000_000;

export const orchestratorInputSchema = z.object({
  group: groupNameSchema,
  /** Interval used when a cycle could not read the group's policy (the check failed). */
  interval_seconds: z.number().int().min(1).max(3600),
  /** Cycles since the loop started (counts every Nth cycle for the drift check); 0 when absent. */
  cycle: z.number().int().min(0).max(MAX_CYCLE).optional(),
});
export type OrchestratorInput = z.infer<typeof orchestratorInputSchema>;

export const healthCheckInputSchema = z.object({
  group: groupNameSchema,
  /** The cycle asking (its start time): a check is counted toward the thresholds once per cycle. */
  cycle: z.string().min(1),
});

export const failoverActivityInputSchema = z.object({
  group: groupNameSchema,
  kind: z.enum(["failover", "failback"]),
  expected_from: z.enum(["primary", "secondary"]),
  automatic: z.boolean(),
  reason: z.string(),
  actor: z.string(),
  /** W3C traceparent of the cycle's trace, so the switch joins it (absent when nothing records spans). */
  traceparent: z.string().max(64).optional(),
});
export type FailoverActivityInput = z.infer<typeof failoverActivityInputSchema>;

export const switchCycleInputSchema = z.object({ group: groupNameSchema, cycle: z.number().int().min(0).max(MAX_CYCLE).optional(), traceparent: z.string().max(64).optional() });

/** The next cycle's number: the count wraps so the input stays small. */
export function nextCycle(cycle: number | undefined): number {
  return ((cycle ?? 0) + 1) % (MAX_CYCLE + 1);
}

export const deliverNotificationsInputSchema = z.object({ group: groupNameSchema });

export const recordErrorInputSchema = z.object({ group: groupNameSchema, error: z.string() });

/**
 * When the loop's next cycle is due: one interval after the last counted check (a cycle a wake
 * event started early keeps the pace; one interval after this cycle's start when the check
 * failed); a proposal waiting for approval is decided by its timeout at the latest; a drill's
 * switchback decided this cycle is applied at once. Never in the past.
 */
export function nextCheckDue(
  check: Pick<HealthCheckResponse, "next_counted_check_utc" | "approval_due_utc"> | undefined,
  switchProgress: Pick<SwitchCycleResponse, "run_again"> | undefined,
  cycleStart: Date,
  intervalSeconds: number,
  now: Date,
): Date {
  const counted = check?.next_counted_check_utc ? new Date(check.next_counted_check_utc) : addSeconds(cycleStart, intervalSeconds);
  const approvalDue = check?.approval_due_utc ? new Date(check.approval_due_utc) : undefined;
  const due = approvalDue && approvalDue > now && approvalDue < counted ? approvalDue : counted;
  return due > now && !switchProgress?.run_again ? due : now;
}

/** Runtime statuses in which the singleton is alive and must not be started again. */
const ALIVE = new Set(["Running", "Pending", "ContinuedAsNew", "Suspended"]);

/** Start when the instance is missing or has ended (Completed, Failed, Terminated, Canceled). */
export function shouldStart(runtimeStatus: string | undefined): boolean {
  return runtimeStatus === undefined || !ALIVE.has(runtimeStatus);
}

/**
 * A Suspended loop is alive but checks nothing (someone holding the Durable system key
 * suspended it): the watchdog resumes it, records that and logs it as an error.
 */
export function shouldResume(runtimeStatus: string | undefined): boolean {
  return runtimeStatus === "Suspended";
}

/** How often the watchdog runs (its timer schedule, every 5 minutes). */
export const WATCHDOG_PERIOD_SECONDS = 300;

/**
 * What the watchdog does with a loop that is alive but has stopped cycling (reported against
 * the Durable extension: instances stuck in Running or Pending after a lost message). Overdue
 * means its next check, as its custom status says (or its last update, before any cycle), is
 * more than 3 intervals late. Then it is first woken (a `wake` event makes a loop whose timer
 * was lost check at once); still overdue a watchdog period later, it is terminated and started
 * again. Answers what to do and how late the loop is.
 */
export function stuckLoopAction(
  instance: { readonly runtime_status?: string; readonly last_cycle_utc?: string; readonly next_check_utc?: string; readonly last_updated_time?: string },
  defaultIntervalSeconds: number,
  now: Date,
): { action: "none" | "wake" | "restart"; overdueSeconds: number; intervalSeconds: number } {
  const due = instance.next_check_utc ?? instance.last_updated_time;
  if (!isLooping(instance.runtime_status) || !due) return { action: "none", overdueSeconds: 0, intervalSeconds: defaultIntervalSeconds };
  const measured = instance.last_cycle_utc && instance.next_check_utc ? (Date.parse(instance.next_check_utc) - Date.parse(instance.last_cycle_utc)) / 1000 : NaN;
  // Intervals are whole seconds; the custom status's two times are a cycle's start and its next due time.
  const intervalSeconds = Number.isFinite(measured) && measured > 0 ? Math.max(1, Math.round(measured)) : defaultIntervalSeconds;
  const overdueSeconds = Math.max(0, (now.getTime() - Date.parse(due)) / 1000);
  const late = 3 * intervalSeconds;
  const action = overdueSeconds <= late ? "none" : overdueSeconds <= late + WATCHDOG_PERIOD_SECONDS ? "wake" : "restart";
  return { action, overdueSeconds: Math.round(overdueSeconds), intervalSeconds };
}

/** The loop is running its cycles: alive and not Suspended. */
export function isLooping(runtimeStatus: string | undefined): boolean {
  return !shouldStart(runtimeStatus) && !shouldResume(runtimeStatus);
}

/** A group's orchestration as the Durable client reports it; only `instance_id` when it does not exist. */
export const instanceInfoSchema = z.object({
  instance_id: z.string(),
  runtime_status: z.string().optional().describe("Running, Pending, Suspended, Completed, Failed, Terminated, ..."),
  custom_status: z.unknown().optional().describe("What the loop showed after its last cycle (group, active_target, healthy, last_status, failover, error, switch, checked_at, next_check_utc)."),
  last_cycle_utc: z
    .string()
    .optional()
    .describe("Loop liveness: when the last cycle checked (from the custom status; not createdTime, which the Azure Storage provider resets on every continueAsNew)."),
  next_check_utc: z.string().optional().describe("When the next cycle is due (from the custom status)."),
  last_updated_time: z.string().optional(),
});
export type InstanceInfo = Readonly<z.infer<typeof instanceInfoSchema>>;

/** What the orchestration shows in its custom status after each cycle. */
export interface CycleStatus {
  readonly group: string;
  readonly active_target?: string;
  readonly healthy?: boolean;
  readonly last_status: string;
  readonly failover?: { readonly changed: boolean; readonly reason?: string };
  readonly error?: string;
  /** The switch plan's progress this cycle (absent when the group has no plan). */
  readonly switch?: SwitchCycleResponse;
  readonly checked_at: string;
  readonly next_check_utc: string;
}

export function cycleStatus(
  group: string,
  now: Date,
  nextCheck: Date,
  check: HealthCheckResponse | undefined,
  switched: SwitchTargetResponse | undefined,
  error: string | undefined,
  switchProgress?: SwitchCycleResponse,
): CycleStatus {
  return {
    group,
    ...(check ? { active_target: switched?.active_target ?? check.active_target, healthy: check.healthy } : {}),
    last_status: error ? "CHECK_ERROR" : (switched?.last_status ?? check?.last_status ?? "UNKNOWN"),
    ...(switched ? { failover: { changed: switched.changed, ...(switched.reason ? { reason: switched.reason } : {}) } } : {}),
    ...(error ? { error } : {}),
    ...(switchProgress && switchProgress.plan !== "none" ? { switch: switchProgress } : {}),
    checked_at: now.toISOString(),
    next_check_utc: nextCheck.toISOString(),
  };
}
