import { app } from "@azure/functions";
import { rejectRoute } from "../core/httpRoutes";
import { decideProposalRequest } from "../core/operations";
import { controlEndpoint } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

/** POST /api/reject: rejects the loop's switch proposal (decision_mode approval); no automatic switch until its condition clears. */
app.http(
  "http_reject",
  controlEndpoint(rejectRoute, (group, input, actor) =>
    decideProposalRequest(runtimeDeps(), group, { proposal_id: input.proposal_id, approve: false, ...(input.reason ? { reason: input.reason } : {}), actor }),
  ),
);
