import { z } from "zod";
import type { FailoverDeps } from "../deps";
import { FailoverError } from "../errors";
import { decideApproval } from "../policy";
import { PROPOSAL_STATES, targetSchema, type FailoverState } from "../state";
import { controlAction } from "./pauseResume";

/** A group's switch proposal as the API shows it (decision_mode approval or notify_only). */
export const proposalViewSchema = z.object({
  id: z.string(),
  state: z
    .enum(PROPOSAL_STATES)
    .describe("pending (waiting for approve or reject), approved (the loop switches at its next check), rejected, expired (unanswered, abandoned) or notified (notify_only)."),
  kind: z.enum(["failover", "failback"]),
  from: targetSchema,
  reason: z.string().optional().describe("What the loop saw when it proposed: the streak, the votes, the standby."),
  created_utc: z.string().optional(),
  expires_utc: z.string().optional().describe("When approval_timeout_action applies (pending only)."),
  decided_by: z.string().optional(),
  decided_utc: z.string().optional(),
});
export type ProposalView = Readonly<z.infer<typeof proposalViewSchema>>;

/** The row's proposal, when there is one. */
export function proposalView(s: FailoverState): ProposalView | undefined {
  if (s.proposal_state === undefined || s.proposal_id === undefined || s.proposal_kind === undefined || s.proposal_from === undefined) return undefined;
  return {
    id: s.proposal_id,
    state: s.proposal_state,
    kind: s.proposal_kind,
    from: s.proposal_from,
    ...(s.proposal_reason ? { reason: s.proposal_reason } : {}),
    ...(s.proposal_created_utc ? { created_utc: s.proposal_created_utc } : {}),
    ...(s.proposal_expires_utc && s.proposal_state === "pending" ? { expires_utc: s.proposal_expires_utc } : {}),
    ...(s.proposal_decided_by ? { decided_by: s.proposal_decided_by } : {}),
    ...(s.proposal_decided_utc ? { decided_utc: s.proposal_decided_utc } : {}),
  };
}

/** The answer of an approve or a reject. */
export const approvalResponseSchema = z.object({
  group: z.string(),
  changed: z.boolean(),
  proposal: proposalViewSchema.optional(),
  active_target: targetSchema,
});
export type ApprovalResponse = Readonly<z.infer<typeof approvalResponseSchema>>;

/**
 * Approves or rejects the group's switch proposal `proposal_id` (the one the caller saw: a
 * decision about another is a conflict). The decision is written to the row with an audit
 * entry naming who decided; an approved switch is made by the loop at its next check (woken at
 * once), under the usual rules: the standby verified, no pause, no cooldown.
 */
export async function decideProposalRequest(deps: FailoverDeps, group: string, input: { proposal_id: string; approve: boolean; reason?: string; actor: string }): Promise<ApprovalResponse> {
  const { changed, state } = await controlAction(deps, group, (s, now) => {
    const decided = decideApproval(s, { proposal_id: input.proposal_id, approve: input.approve, reason: input.reason ?? (input.approve ? "approved" : "rejected"), actor: input.actor }, now);
    if ("problem" in decided) throw new FailoverError("conflict", `Group "${group}": ${decided.problem}`);
    return decided;
  });
  const proposal = proposalView(state);
  return { group, changed, ...(proposal ? { proposal } : {}), active_target: state.active_target };
}
