import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { errorAnswer } from "../core/errorAnswer";
import { FailoverError } from "../core/errors";
import { answerProbeRequest } from "../core/vantageAgent";
import { agentDeps } from "./shared/agentRuntime";

/** A probe request is a URL and a few settings: anything larger is refused unread. */
const MAX_REQUEST_BYTES = 8 * 1024;

/** POST /api/probe: the vantage agent's one function (see core/vantageAgent.ts). Anonymous to the host: the agent checks its caller itself. */
app.http("vantage_probe", {
  methods: ["POST"],
  authLevel: "anonymous",
  route: "probe",
  handler: async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    try {
      if (Number(request.headers.get("content-length") ?? "0") > MAX_REQUEST_BYTES) throw new FailoverError("too_large", `the request body is larger than ${MAX_REQUEST_BYTES} bytes`);
      const body = await request.text();
      if (Buffer.byteLength(body) > MAX_REQUEST_BYTES) throw new FailoverError("too_large", `the request body is larger than ${MAX_REQUEST_BYTES} bytes`);
      return { jsonBody: await answerProbeRequest(agentDeps(), (name) => request.headers.get(name), body) };
    } catch (err) {
      const { status, jsonBody, logLine } = errorAnswer(err);
      // A healthy call logs nothing (src/agent/host.json); a refused caller or URL is worth a line.
      if (logLine) context.error(logLine);
      else context.warn(`refused with ${status}: ${(jsonBody as { message?: string }).message ?? ""}`);
      return { status, jsonBody };
    }
  },
});
