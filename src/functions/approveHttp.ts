import { app } from "@azure/functions";
import { approveRoute } from "../core/httpRoutes";
import { decideProposalRequest } from "../core/operations";
import { controlEndpoint } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

/** POST /api/approve: approves the loop's switch proposal (decision_mode approval); the loop then makes it. */
app.http(
  "http_approve",
  controlEndpoint(approveRoute, (group, input, actor) =>
    decideProposalRequest(runtimeDeps(), group, { proposal_id: input.proposal_id, approve: true, ...(input.reason ? { reason: input.reason } : {}), actor }),
  ),
);
