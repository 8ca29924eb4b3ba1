import { createHash } from "node:crypto";
import { z } from "zod";

/**
 * A group's switch plan: the ordered steps (at most 10), or stages of steps run in parallel,
 * that make the world match the row's `active_target`. Stored as JSON on the group's row (`switch_plan`) or, for the default
 * group, in the SWITCH_PLAN app setting. Errors name the step index, its kind and the field.
 */

export const MAX_STEPS = 10;

const SUB_RG = "/subscriptions/(?<subscription>[0-9a-fA-F-]{36})/resourceGroups/(?<resourceGroup>[-\\w._()]{1,90})/providers";
export const RESOURCE_ID = {
  trafficManagerProfile: new RegExp(`^${SUB_RG}/Microsoft\\.Network/trafficManagerProfiles/(?<name>[-\\w.]{1,63})$`, "i"),
  dnsZone: new RegExp(`^${SUB_RG}/Microsoft\\.Network/dnszones/(?<name>[-\\w.]{1,253})$`, "i"),
  frontDoorProfile: new RegExp(`^${SUB_RG}/Microsoft\\.Cdn/profiles/(?<name>[-\\w]{1,260})$`, "i"),
  cosmosAccount: new RegExp(`^${SUB_RG}/Microsoft\\.DocumentDB/databaseAccounts/(?<name>[a-z0-9][-a-z0-9]{1,48}[a-z0-9])$`, "i"),
  storageAccount: new RegExp(`^${SUB_RG}/Microsoft\\.Storage/storageAccounts/(?<name>[a-z0-9]{3,24})$`, "i"),
  sqlServer: new RegExp(`^${SUB_RG}/Microsoft\\.Sql/servers/(?<name>[a-z0-9][-a-z0-9]{0,61}[a-z0-9]?)$`, "i"),
} as const;

export interface ParsedResourceId {
  readonly subscription: string;
  readonly resourceGroup: string;
  readonly name: string;
}

export function parseResourceId(pattern: RegExp, id: string): ParsedResourceId {
  const groups = pattern.exec(id)?.groups;
  if (!groups) throw new Error(`not a resource ID of the expected type: ${id}`);
  return { subscription: groups.subscription, resourceGroup: groups.resourceGroup, name: groups.name };
}

function resourceId(pattern: RegExp, shape: string) {
  return z.string().max(1024).regex(pattern, `must be a resource ID of the form ${shape}`);
}

const name = (what: string) =>
  z
    .string()
    .min(1, `${what} is empty`)
    .max(260)
    .regex(/^[^/?#\s]+$/, `${what} must not contain '/', '?', '#' or spaces`);
const httpsUrl = z
  .string()
  .max(2048)
  .refine((v) => {
    try {
      return new URL(v).protocol === "https:";
    } catch {
      return false;
    }
  }, "must be an https:// URL");
const webUrl = z
  .string()
  .max(2048)
  .refine((v) => {
    try {
      return ["https:", "http:"].includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, "must be an http:// or https:// URL");

const endpointRef = z.strictObject({
  endpoint_type: z.enum(["AzureEndpoints", "ExternalEndpoints", "NestedEndpoints"]),
  endpoint_name: name("endpoint_name"),
});

export const trafficManagerStep = z
  .strictObject({
    kind: z.literal("traffic_manager"),
    profile_id: resourceId(RESOURCE_ID.trafficManagerProfile, "/subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.Network/trafficManagerProfiles/{name}"),
    primary: endpointRef,
    secondary: endpointRef,
  })
  .refine((s) => s.primary.endpoint_name.toLowerCase() !== s.secondary.endpoint_name.toLowerCase() || s.primary.endpoint_type !== s.secondary.endpoint_type, {
    message: "primary and secondary are the same endpoint",
    path: ["secondary", "endpoint_name"],
  });

export const dnsStep = z
  .strictObject({
    kind: z.literal("dns"),
    zone_id: resourceId(RESOURCE_ID.dnsZone, "/subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.Network/dnszones/{zone}"),
    record_name: z
      .string()
      .min(1)
      .max(253)
      .regex(/^(@|[\w*-]+(\.[\w-]+)*)$/, "must be a relative record name such as www or @"),
    record_type: z.enum(["CNAME", "A"]),
    primary_value: z.string().min(1).max(253),
    secondary_value: z.string().min(1).max(253),
    /** Sets the record set's TTL; absent: the TTL it has is kept (60 s for a record set the step creates). */
    ttl: z.number().int().min(1).max(86400).optional(),
    /** Verify also asks the zone's own name servers (or `name_servers`) for the record. */
    check_name_servers: z.boolean().default(false),
    /** Name servers to ask instead of the zone's (`host`, `ip` or `ip:port`). */
    name_servers: z
      .array(
        z
          .string()
          .min(1)
          .max(253)
          .regex(/^(\[[0-9a-fA-F:.]+\]|[\w.-]+)(:\d{1,5})?$/, "must be a host, an IP address or ip:port"),
      )
      .min(1)
      .max(4)
      .optional(),
  })
  .superRefine((s, ctx) => {
    for (const side of ["primary_value", "secondary_value"] as const) {
      const ok = s.record_type === "A" ? /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(s[side]) : /^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9.])?$/.test(s[side]);
      if (!ok) ctx.addIssue({ code: "custom", path: [side], message: s.record_type === "A" ? "must be an IPv4 address" : "must be a host name" });
    }
    if (s.primary_value === s.secondary_value) ctx.addIssue({ code: "custom", path: ["secondary_value"], message: "is the same as primary_value" });
  });

export const frontDoorStep = z
  .strictObject({
    kind: z.literal("front_door"),
    profile_id: resourceId(RESOURCE_ID.frontDoorProfile, "/subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.Cdn/profiles/{name}"),
    origin_group: name("origin_group"),
    primary_origin: name("primary_origin"),
    secondary_origin: name("secondary_origin"),
    /** enabled_state: Enabled on the active origin, Disabled on the other; priority: 1 and 2. */
    mode: z.enum(["enabled_state", "priority"]).default("enabled_state"),
  })
  .refine((s) => s.primary_origin !== s.secondary_origin, { message: "is the same as primary_origin", path: ["secondary_origin"] });

export const appConfigurationStep = z
  .strictObject({
    kind: z.literal("app_configuration"),
    endpoint: httpsUrl,
    key: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[^%*,\\]+$/, "must not contain %, *, comma or backslash"),
    label: z.string().max(1024).optional(),
    primary_value: z.string().max(10_000),
    secondary_value: z.string().max(10_000),
    sentinel_key: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[^%*,\\]+$/, "must not contain %, *, comma or backslash")
      .optional(),
  })
  .refine((s) => s.primary_value !== s.secondary_value, { message: "is the same as primary_value", path: ["secondary_value"] });

export const sqlFailoverGroupStep = z
  .strictObject({
    kind: z.literal("sql_failover_group"),
    /** The logical servers of the failover group: the one that is primary when the group's primary is active, and its partner. */
    primary_server_id: resourceId(RESOURCE_ID.sqlServer, "/subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{name}"),
    secondary_server_id: resourceId(RESOURCE_ID.sqlServer, "/subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{name}"),
    failover_group: z
      .string()
      .min(1)
      .max(63)
      .regex(/^[a-z0-9][-a-z0-9]*$/, "must be a failover group name: lowercase letters, digits and '-'"),
    /** When the planned failover fails (the old primary unreachable), force it, losing what was not replicated yet. Off unless the plan says so. */
    allow_data_loss: z.boolean().default(false),
  })
  .refine((s) => s.primary_server_id.toLowerCase() !== s.secondary_server_id.toLowerCase(), { message: "is the same server as primary_server_id", path: ["secondary_server_id"] });

/** An Azure region as Cosmos DB names it ("East US" or eastus): compared without spaces or case. */
const cosmosRegion = z
  .string()
  .min(2)
  .max(64)
  .regex(/^[A-Za-z0-9 ]+$/, "must be a region name such as eastus or East US");

export const cosmosDbStep = z
  .strictObject({
    kind: z.literal("cosmos_db"),
    account_id: resourceId(RESOURCE_ID.cosmosAccount, "/subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.DocumentDB/databaseAccounts/{name}"),
    /** The write region while the primary is active, and while the secondary is. */
    primary_region: cosmosRegion,
    secondary_region: cosmosRegion,
  })
  .refine((s) => regionKey(s.primary_region) !== regionKey(s.secondary_region), { message: "is the same region as primary_region", path: ["secondary_region"] });

export const storageAccountStep = z
  .strictObject({
    kind: z.literal("storage_account"),
    account_id: resourceId(RESOURCE_ID.storageAccount, "/subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{name}"),
    /** The account's primary location while the primary is active, and while the secondary is (eastus, westus). */
    primary_location: cosmosRegion,
    secondary_location: cosmosRegion,
    /** planned: the primary and secondary swap, nothing lost, geo-redundancy kept; unplanned: the secondary takes over with what it had at lastSyncTime and the account becomes locally redundant. */
    failover_type: z.enum(["planned", "unplanned"], { error: "must be planned or unplanned" }).default("planned"),
  })
  .refine((s) => regionKey(s.primary_location) !== regionKey(s.secondary_location), { message: "is the same location as primary_location", path: ["secondary_location"] });

/** A region's name as Cosmos DB compares it: "East US" and eastus are the same. */
export function regionKey(name: string): string {
  return name.replace(/\s+/g, "").toLowerCase();
}

export const webhookStep = z.strictObject({
  kind: z.literal("webhook"),
  url: webUrl,
  /** Standard Webhooks secret (`whsec_<base64>`); best given as a Key Vault reference in settings. */
  secret: z.string().min(16).max(512).optional(),
  timeout_ms: z.number().int().min(100).max(30_000).default(5000),
});

/** Optional per plan: a URL whose response names the side that served it, in a header or in the body. */
export const dataPath = z
  .strictObject({
    url: webUrl,
    /** The response header that names the side; absent: the body (its first 64 KiB). */
    header: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be an HTTP header name")
      .optional(),
    primary_text: z.string().min(1).max(256),
    secondary_text: z.string().min(1).max(256),
    timeout_ms: z.number().int().min(100).max(30_000).default(5000),
  })
  .refine((d) => !d.primary_text.includes(d.secondary_text) && !d.secondary_text.includes(d.primary_text), {
    message: "primary_text and secondary_text must not contain each other",
    path: ["secondary_text"],
  });

export const switchStep = z.discriminatedUnion("kind", [trafficManagerStep, dnsStep, frontDoorStep, appConfigurationStep, sqlFailoverGroupStep, cosmosDbStep, storageAccountStep, webhookStep]);

/** A stage: steps that run in parallel; the stages run in order. */
export const switchStage = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[\w .-]+$/, "must be letters, digits, spaces, '.', '_' or '-'")
    .optional(),
  /** Each step of the stage gets at most this long in one cycle; then it fails with class timeout (retried, as any timeout). */
  timeout_seconds: z.number().int().min(1).max(600).optional(),
  steps: z.array(switchStep).min(1, "a stage needs at least one step").max(MAX_STEPS, `a stage has at most ${MAX_STEPS} steps`),
});

export const MAX_STAGES = 5;

export const switchPlan = z
  .strictObject({
    /** Readiness warns when a step's DNS or Traffic Manager TTL exceeds this recovery-time budget. */
    recovery_budget_seconds: z.number().int().min(1).max(86400).optional(),
    /** How long an applied switch may stay unverified (Front Door deploys for up to about 20 minutes) before it fails with class timeout. */
    verify_timeout_seconds: z.number().int().min(10).max(86400).default(1800),
    /**
     * After a permanent error (403, 404, a lock, a conflict, a refused request): `hold` keeps what
     * was applied and pages a human; `compensate` first undoes the applied steps in reverse order
     * (make-before-break), then pages. Either way the saga stops writing until a human acts.
     */
    on_failure: z.enum(["hold", "compensate"]).default("hold"),
    data_path: dataPath.optional(),
    /** The steps, run one after the other (each its own stage); or `stages`, not both. */
    steps: z.array(switchStep).min(1, "a plan needs at least one step").max(MAX_STEPS, `a plan has at most ${MAX_STEPS} steps`).optional(),
    /** Stages run in order; the steps of a stage in parallel (typically: data tier, then compute, then traffic). */
    stages: z.array(switchStage).min(1, "a plan needs at least one stage").max(MAX_STAGES, `a plan has at most ${MAX_STAGES} stages`).optional(),
  })
  .superRefine((p, ctx) => {
    if ((p.steps === undefined) === (p.stages === undefined)) ctx.addIssue({ code: "custom", path: ["steps"], message: "give steps or stages (one of them)" });
    const total = p.stages?.reduce((n, st) => n + st.steps.length, 0) ?? 0;
    if (total > MAX_STEPS) ctx.addIssue({ code: "custom", path: ["stages"], message: `a plan has at most ${MAX_STEPS} steps in all its stages (got ${total})` });
  });

export type SwitchStepConfig = z.infer<typeof switchStep>;
export type SwitchPlan = z.infer<typeof switchPlan> & { readonly generation: string };

export class InvalidPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidPlanError";
  }
}

function where(path: ReadonlyArray<PropertyKey>, input: unknown): string {
  if (path[0] === "stages" && typeof path[1] === "number") {
    const stage = `stage ${path[1]}`;
    if (path[2] !== "steps" || typeof path[3] !== "number") return path.length > 2 ? `${stage}: ${path.slice(2).map(String).join(".")}` : stage;
    const steps = (input as { stages?: Array<{ steps?: unknown }> }).stages?.[path[1]]?.steps;
    return `${stage} ${stepWhere(Array.isArray(steps) ? (steps as unknown[]) : undefined, path[3], path.slice(4))}`;
  }
  if (path[0] !== "steps" || typeof path[1] !== "number") return path.length ? path.map(String).join(".") : "(plan)";
  return stepWhere((input as { steps?: unknown[] }).steps, path[1], path.slice(2));
}

function stepWhere(steps: unknown[] | undefined, index: number, rest: ReadonlyArray<PropertyKey>): string {
  const step = steps?.[index] as { kind?: unknown } | undefined;
  const kind = typeof step?.kind === "string" ? ` (${step.kind.slice(0, 40)})` : "";
  const field = rest.map(String).join(".");
  return `step ${index}${kind}${field ? `: ${field}` : ""}`;
}

/** Where the plan's steps run: stage by stage, in order, and each stage's per-step timeout. A plan of `steps` is one stage per step. */
export interface StageLayout {
  /** The stages, each the indexes of its steps in planSteps' order. */
  readonly stages: ReadonlyArray<readonly number[]>;
  /** Per step (planSteps' order): its timeout in one cycle, when its stage sets one. */
  readonly timeoutsMs: ReadonlyArray<number | undefined>;
}

/** Every step of the plan in the order the ledger and the row number them: stage by stage. */
export function planSteps(plan: Pick<SwitchPlan, "steps" | "stages">): SwitchStepConfig[] {
  return plan.stages ? plan.stages.flatMap((stage) => stage.steps) : (plan.steps ?? []);
}

export function stageLayout(plan: Pick<SwitchPlan, "steps" | "stages">): StageLayout {
  const stages = plan.stages ?? (plan.steps ?? []).map((step) => ({ steps: [step], timeout_seconds: undefined }));
  let next = 0;
  return {
    stages: stages.map((stage) => stage.steps.map(() => next++)),
    timeoutsMs: stages.flatMap((stage) => stage.steps.map(() => (stage.timeout_seconds !== undefined ? stage.timeout_seconds * 1000 : undefined))),
  };
}

/** Parses a plan from its JSON text (row field or app setting); throws InvalidPlanError naming the step and field. */
export function parsePlan(text: string, source: string): SwitchPlan {
  if (text.length > 32_000) throw new InvalidPlanError(`${source}: the plan is ${text.length} characters, more than 32000`);
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (err) {
    throw new InvalidPlanError(`${source}: not valid JSON (${(err as Error).message})`);
  }
  const result = switchPlan.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.slice(0, 10).map((i) => `${where(i.path, input)}: ${i.message}`);
    throw new InvalidPlanError(`${source}: ${problems.join("; ")}`);
  }
  const generation = createHash("sha256").update(JSON.stringify(result.data)).digest("hex").slice(0, 12);
  return { ...result.data, generation };
}
