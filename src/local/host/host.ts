import { HttpRequest, HttpResponse, InvocationContext, type HttpResponseInit } from "@azure/functions";
import { CronExpressionParser } from "cron-parser";
import { randomUUID } from "node:crypto";
import { readdirSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { TokenCredential } from "@azure/identity";
import { resetRuntime } from "../../functions/shared/runtimeDeps";
import { resetAgentRuntime } from "../../agent/shared/agentRuntime";
import type { Prober } from "../../core/probe";
import { installFunctionsCore, registeredFunctions, triggerOf, type Registration } from "./functionsCore";
import type { ChaosOptions } from "./chaos";
import type { HubClock } from "./hubClock";
import { InstanceAlreadyRunningError, type ExecutionRecord } from "./instances";
import { tellServedAnswer } from "./servedAnswers";
import { LocalTaskHub } from "./taskHub";
import { startLocalMetrics, type LocalMetrics } from "./telemetry";

/**
 * The local host: what `func start` does for this app, in-process. It loads every module in
 * src/functions (the same files the Functions host loads), serves the HTTP functions under
 * /api, serves the Durable extension's HTTP API under /runtime/webhooks/durabletask (so the
 * real durable-functions client talks to it), runs the timer functions on their schedules,
 * and drives orchestrations through the in-memory task hub.
 *
 * Like `func start`, it does not check function keys.
 */

export interface LocalHostOptions {
  /** App settings for this run; applied to process.env and restored on stop. */
  readonly env?: Readonly<Record<string, string>>;
  readonly port?: number;
  /** Run timer functions on their schedules (default true). */
  readonly timers?: boolean;
  readonly taskHubName?: string;
  /** Where the host's and the app's log lines go (console.warn by default). */
  readonly log?: (message: string) => void;
  /** The task hub's time: the wall clock by default, a VirtualClock for soaks. */
  readonly clock?: HubClock;
  /** Switches the task hub's chaos mode on (see chaos.ts). */
  readonly chaos?: ChaosOptions;
  /** Told of every finished execution (see LocalTaskHub). */
  readonly onExecution?: (record: ExecutionRecord) => void;
  /** Credential for the switch steps' Azure SDK clients (the local Azure stand-in's); the managed identity by default. */
  readonly credential?: TokenCredential;
  /** Serve the app's OpenTelemetry metrics in the Prometheus format at /metrics (default false). */
  readonly metrics?: boolean;
  /** Which Function app to host: the controller (src/functions, the default) or a vantage agent (src/agent). One per process, as in Azure. */
  readonly app?: "controller" | "agent";
  /** A vantage agent's probe (a local run's partition); the HTTP probe by default. */
  readonly agentProbe?: Prober;
}

export interface LocalHost {
  readonly url: string;
  readonly taskHub: LocalTaskHub;
  /** The Prometheus scrape URL (`<url>/metrics`) when started with `metrics: true`. */
  readonly metricsUrl?: string;
  /** Runs a timer-triggered function now, as its schedule would. */
  runTimer(name: string): Promise<void>;
  stop(): Promise<void>;
}

const DURABLE_PREFIX = "/runtime/webhooks/durabletask/";

let loadedApp: string | undefined;

function loadFunctionModules(app: "controller" | "agent"): ReadonlyMap<string, Registration> {
  installFunctionsCore();
  if (loadedApp !== undefined && loadedApp !== app) throw new Error(`this process already hosts the ${loadedApp}'s functions: run the ${app} in a process of its own, as in Azure`);
  loadedApp = app;
  if (registeredFunctions().size === 0) {
    const dir = join(__dirname, "..", "..", app === "agent" ? "agent" : "functions");
    for (const file of readdirSync(dir).sort()) {
      // Loading a function file registers its triggers, as the Functions host loads package.json's main.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      if (/\.(js|ts)$/.test(file) && !file.endsWith(".d.ts")) require(join(dir, file));
    }
  }
  return registeredFunctions();
}

function durableClientData(origin: string, hub: string): Record<string, unknown> {
  const base = `${origin}/runtime/webhooks/durabletask`;
  const query = `taskHub=${hub}&connection=Storage&code=local`;
  const instance = `${base}/instances/INSTANCEID`;
  return {
    taskHubName: hub,
    creationUrls: {
      createNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?${query}`,
      createAndWaitOnNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${query}`,
    },
    managementUrls: {
      id: "INSTANCEID",
      statusQueryGetUri: `${instance}?${query}`,
      sendEventPostUri: `${instance}/raiseEvent/{eventName}?${query}`,
      terminatePostUri: `${instance}/terminate?reason={text}&${query}`,
      rewindPostUri: `${instance}/rewind?reason={text}&${query}`,
      purgeHistoryDeleteUri: `${instance}?${query}`,
      restartPostUri: `${instance}/restart?${query}`,
      suspendPostUri: `${instance}/suspend?reason={text}&${query}`,
      resumePostUri: `${instance}/resume?reason={text}&${query}`,
    },
    baseUrl: base,
    requiredQueryStringParameters: query,
    rpcBaseUrl: `${origin}${DURABLE_PREFIX}`,
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

export async function startLocalHost(options: LocalHostOptions = {}): Promise<LocalHost> {
  const previousEnv: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(options.env ?? {})) {
    previousEnv[key] = process.env[key];
    process.env[key] = value;
  }
  const functions = loadFunctionModules(options.app ?? "controller");
  const log = options.log ?? ((message: string) => console.warn(message));
  // The app's wiring reads the settings once; make it read this run's, log through this host and read the hub's time.
  resetRuntime({ log, ...(options.credential ? { credential: options.credential } : {}), ...(options.clock ? { clock: options.clock } : {}) });
  resetAgentRuntime({ ...(options.agentProbe ? { probe: options.agentProbe } : {}), ...(options.clock ? { clock: options.clock } : {}) });

  const hub = options.taskHubName ?? "LocalHub";
  const taskHub = new LocalTaskHub(functions, {
    log,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.chaos ? { chaos: options.chaos } : {}),
    ...(options.onExecution ? { onExecution: options.onExecution } : {}),
  });
  const localMetrics: LocalMetrics | undefined = options.metrics ? startLocalMetrics() : undefined;
  let origin = "";

  function contextFor(registration: Registration): InvocationContext {
    const extraInputs = Object.entries(registration.metadata.bindings)
      .filter(([, b]) => b.direction === "in" && (b.type === "durableClient" || b.type === "orchestrationClient"))
      .map(([name, b]) => ({ name, type: b.type }));
    const context = new InvocationContext({
      functionName: registration.metadata.name,
      invocationId: randomUUID(),
      options: { trigger: { name: "trigger", type: triggerOf(registration).type }, extraInputs, extraOutputs: [] },
      logHandler: (level, ...args) => {
        if (level === "error" || level === "warning") log(`[${registration.metadata.name}] ${level}: ${args.map(String).join(" ")}`);
      },
    });
    for (const input of extraInputs) context.extraInputs.set(input.name, durableClientData(origin, hub));
    return context;
  }

  const httpFunctions = [...functions.values()].filter((r) => triggerOf(r).type === "httpTrigger");

  async function serveApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const route = url.pathname.slice("/api/".length);
    const method = req.method ?? "GET";
    const candidates = httpFunctions.filter((r) => (triggerOf(r).route ?? r.metadata.name) === route);
    if (candidates.length === 0) return sendJson(res, 404, { error: "not_found", message: `no function serves /api/${route}` });
    const registration = candidates.find((r) => ((triggerOf(r).methods as string[] | undefined) ?? [method]).includes(method));
    if (!registration) return sendJson(res, 405, { error: "method_not_allowed", message: `/api/${route} does not accept ${method}` });
    const body = await readBody(req);
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(req.headers)) if (typeof value === "string") headers[key] = value;
    const request = new HttpRequest({ method, url: url.href, headers, query: Object.fromEntries(url.searchParams), params: {}, body: { string: body } });
    const result = (await registration.handler(request, contextFor(registration))) as HttpResponseInit | HttpResponse | undefined;
    if (result instanceof HttpResponse) {
      const outHeaders: Record<string, string> = {};
      result.headers.forEach((value, key) => (outHeaders[key] = value));
      res.writeHead(result.status, outHeaders).end(await result.text());
      return;
    }
    const init = result ?? {};
    const outHeaders = { ...(init.headers as Record<string, string> | undefined) };
    if (init.jsonBody !== undefined) outHeaders["content-type"] ??= "application/json";
    const status = init.status ?? 200;
    const text = init.jsonBody !== undefined ? JSON.stringify(init.jsonBody) : typeof init.body === "string" ? init.body : "";
    tellServedAnswer({ method, route, status, ...(outHeaders["content-type"] ? { contentType: outHeaders["content-type"] } : {}), body: text });
    res.writeHead(status, outHeaders).end(text);
  }

  async function serveDurable(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const parts = url.pathname.slice(DURABLE_PREFIX.length).split("/").filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? "GET";
    const body = await readBody(req);
    if (method === "POST" && parts[0] === "orchestrators" && parts[1]) {
      const instanceId = parts[2] ?? randomUUID().replace(/-/g, "");
      try {
        taskHub.start(parts[1], instanceId, body.trim() === "" ? null : JSON.parse(body));
      } catch (err) {
        // The extension lets the refusal escape as an unhandled exception: a 500.
        if (err instanceof InstanceAlreadyRunningError)
          return sendJson(res, 500, { Message: "An error has occurred.", ExceptionMessage: err.message, ExceptionType: "System.InvalidOperationException" });
        return sendJson(res, 400, { error: (err as Error).message });
      }
      return sendJson(res, 202, { id: instanceId });
    }
    if (parts[0] === "instances") {
      const instanceId = parts[1];
      if (method === "GET" && !instanceId) return sendJson(res, 200, taskHub.list());
      if (method === "GET" && instanceId) {
        const status = taskHub.status(instanceId, url.searchParams.get("showHistory") === "true");
        if (!status) return sendJson(res, 404, { error: `instance ${instanceId} not found` });
        const code = status.runtimeStatus === "Running" || status.runtimeStatus === "Pending" || status.runtimeStatus === "Suspended" ? 202 : status.runtimeStatus === "Completed" ? 200 : 400;
        return sendJson(res, code, status);
      }
      const verb = parts[2];
      if (method === "POST" && instanceId && (verb === "raiseEvent" || verb === "terminate" || verb === "suspend" || verb === "resume")) {
        const outcome =
          verb === "raiseEvent"
            ? taskHub.raiseEvent(instanceId, parts[3] ?? "", body.trim() === "" ? null : JSON.parse(body))
            : verb === "terminate"
              ? taskHub.terminate(instanceId, url.searchParams.get("reason") ?? "")
              : verb === "suspend"
                ? taskHub.suspend(instanceId)
                : taskHub.resume(instanceId);
        return sendJson(res, outcome === "accepted" ? 202 : outcome === "gone" ? 410 : 404, { outcome });
      }
    }
    sendJson(res, 404, { error: `the local host does not serve ${method} ${url.pathname}` });
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", origin);
    if (localMetrics && url.pathname === "/metrics") return localMetrics.handle(req, res);
    const serve = url.pathname.startsWith("/api/") ? serveApi : url.pathname.startsWith(DURABLE_PREFIX) ? serveDurable : undefined;
    if (!serve) return sendJson(res, 404, { error: "not_found" });
    serve(req, res, url).catch((err: unknown) => {
      log(`local host: ${req.method} ${url.pathname} failed: ${(err as Error).stack ?? String(err)}`);
      if (!res.headersSent) sendJson(res, 500, { error: "internal_error", message: (err as Error).message });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => reject(new Error(`the local host cannot listen on 127.0.0.1:${options.port ?? 0}: ${err.message}`)));
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // durable-functions builds status URLs for WEBSITE_HOSTNAME; point it at this host.
  previousEnv.WEBSITE_HOSTNAME ??= process.env.WEBSITE_HOSTNAME;
  process.env.WEBSITE_HOSTNAME = origin.slice("http://".length);

  async function runTimer(name: string): Promise<void> {
    const registration = functions.get(name);
    if (!registration || triggerOf(registration).type !== "timerTrigger") throw new Error(`No timer function named "${name}"`);
    await registration.handler({ isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: {} }, contextFor(registration));
  }

  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  if (options.timers !== false) {
    for (const registration of functions.values()) {
      const trigger = triggerOf(registration);
      if (trigger.type !== "timerTrigger") continue;
      const schedule = CronExpressionParser.parse(String(trigger.schedule));
      const arm = () => {
        if (stopped) return;
        const delay = Math.max(0, schedule.next().getTime() - Date.now());
        timers.push(
          setTimeout(() => {
            runTimer(registration.metadata.name)
              .catch((err: unknown) => log(`timer ${registration.metadata.name} failed: ${(err as Error).message}`))
              .finally(arm);
          }, delay),
        );
      };
      arm();
    }
  }

  return {
    url: origin,
    taskHub,
    ...(localMetrics ? { metricsUrl: `${origin}/metrics` } : {}),
    runTimer,
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.length = 0;
      await taskHub.stop();
      await localMetrics?.shutdown();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const [key, value] of Object.entries(previousEnv)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      resetRuntime();
      resetAgentRuntime();
    },
  };
}
