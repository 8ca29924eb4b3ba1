/**
 * The operations the orchestrator's activities, the HTTP API and the local host call, one per
 * file. Each reads the group's row, asks a pure decision in policy.ts and writes the result
 * conditionally through the one retry loop in readDecideWrite.ts.
 */
export { bootstrap, type BootstrapRequest } from "./bootstrap";
export { cycleCheck, healthCheck, healthCheckResponseSchema, type GroupRemoved, type HealthCheckResponse } from "./healthCheck";
export { manualCheck } from "./manualCheck";
export { controlResponseSchema, pause, resume, type ControlResponse, type PauseInput } from "./pauseResume";
export { hold, holdResponseSchema, release, type HoldResponse } from "./hold";
export { recordCheckError } from "./recordCheckError";
export { deliverNotifications, type DeliveryReport } from "./deliverNotifications";
export { pruneAudit, PRUNE_MAX_CHANGES, type PruneReport } from "./pruneAudit";
export { recordLoopRestarted, recordLoopResumed } from "./recordLoopEvent";
export { switchTarget, switchTargetResponseSchema, type SwitchTargetRequest, type SwitchTargetResponse } from "./switchTarget";
export { switchCycle, type SwitchCycleResponse } from "./switchCycle";
export { readiness, readinessResponseSchema, recordReadiness, type ReadinessResponse } from "./readiness";
export { retrySwitch, retrySwitchResponseSchema, type RetrySwitchResponse } from "./retrySwitch";
export { getPlan, planFromRequest, planResponseSchema, removePlan, setPlan, type PlanResponse } from "./plan";
export { approvalResponseSchema, decideProposalRequest, proposalView, proposalViewSchema, type ApprovalResponse, type ProposalView } from "./approval";
export { advanceDrill, drillReportSchema, drillResponseSchema, lastDrill, startDrill, type DrillReport, type DrillResponse } from "./drill";
