import { z } from "zod";

/**
 * The per-group policy knobs. Each one has an app setting that gives the default for every
 * group and a snake_case field on the state row that overrides it for one group. Both are
 * parsed by the same schema, so a value that is rejected on the row is rejected as a setting.
 */

/** An inclusive range of acceptable HTTP status codes. */
const statusRangeSchema = z.object({ min: z.number().int(), max: z.number().int() });
export type StatusRange = Readonly<z.infer<typeof statusRangeSchema>>;

/** Parses "200-299,301" into ranges; rejects anything outside 100-599 or reversed. */
export function parseStatusRanges(text: string): StatusRange[] {
  const parts = text.split(",").map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p === "")) {
    throw new Error(`expected a list like "200-299,301", got "${text}"`);
  }
  return parts.map((part) => {
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(part);
    if (!m) throw new Error(`"${part}" is not a status code or a range like 200-299`);
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : Number(m[2]);
    if (min < 100 || max > 599 || min > max) {
      throw new Error(`"${part}" is not a valid range of HTTP status codes (100-599, low-high)`);
    }
    return { min, max };
  });
}

export function formatStatusRanges(ranges: readonly StatusRange[]): string {
  return ranges.map((r) => (r.min === r.max ? `${r.min}` : `${r.min}-${r.max}`)).join(",");
}

/**
 * Accepts a JS number, a string of digits (app settings are strings) or the `{ value, type: "Int64" }`
 * object that @azure/data-tables returns for Edm.Int64 columns.
 */
export function integer(min: number, max: number) {
  return z.preprocess(
    (v) => {
      const raw = v !== null && typeof v === "object" && "value" in v ? v.value : v;
      return typeof raw === "string" && /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
    },
    z.number({ error: "must be an integer" }).int("must be an integer").min(min, `must be at least ${min}`).max(max, `must be at most ${max}`),
  );
}

export const boolean = z.preprocess(
  (v) => {
    if (typeof v !== "string") return v;
    const s = v.trim().toLowerCase();
    return s === "true" ? true : s === "false" ? false : v;
  },
  z.boolean({ error: "must be true or false" }),
);

// Read from its text; the parsed value's schema says what the knob holds (in status answers too).
const statusRanges = z
  .string({ error: 'must be a string like "200-299,301"' })
  .transform((text, ctx) => {
    try {
      return parseStatusRanges(text);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
      return z.NEVER;
    }
  })
  .pipe(z.array(statusRangeSchema));

/** The controller's own probe, as a vantage (see vantage.ts). */
export const CONTROLLER_VANTAGE = "controller";

/** An Azure region's short name (westeurope), as REGION_NAME, the Bicep's location and a group's primary_region spell it. */
export const regionSchema = z
  .string({ error: "must be a string" })
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9-]{1,40}$/, "must be an Azure region name such as westeurope");

export const vantageNameSchema = z.string({ error: "must be a string" }).regex(/^[a-z0-9][a-z0-9-]{0,39}$/, "must be 1-40 lowercase letters, digits or '-', starting with a letter or digit");

/** The `vantages` knob: `all`, or the names to ask (comma-separated; `controller` is the controller's own probe). */
export const vantageSelectionSchema = z
  .string({ error: "must be a string" })
  .trim()
  .toLowerCase()
  .refine(
    (text) => text === "all" || text.split(",").every((n) => vantageNameSchema.safeParse(n.trim()).success),
    'must be "all" or a comma-separated list of vantage names such as "controller,westeurope"',
  )
  .overwrite((text) => (text === "all" ? "all" : [...new Set(text.split(",").map((n) => n.trim()))].join(",")));

/** What documents a knob besides its schema (README table, Bicep descriptions). */
interface KnobDoc {
  /** Default as the app setting would spell it; parsed by the knob's schema like any setting. */
  readonly defaultText: string;
  readonly description: string;
  /** What the knob matches or exceeds among the anchors (README table). */
  readonly anchor: string;
  /** How the row stores a parsed value, when not as it is. */
  readonly toRow?: (value: never) => unknown;
}

/** One knob: its schema, the default as the app setting spells it, what it does, its anchor, and (when needed) how the row stores it. */
function knob<S extends z.ZodType>(schema: S, defaultText: string, description: string, anchor: string, toRow?: (value: z.output<S>) => unknown) {
  return { schema, defaultText, description, anchor, ...(toRow ? { toRow } : {}) };
}

/**
 * The policy knobs: one entry each. Field name = row field; app setting = the field in upper
 * case. Everything else (the Policy type, app-setting and row-override parsing, the README and
 * Bicep checks, the sample settings check) is derived from this object.
 */
const KNOBS = {
  failure_threshold: knob(
    integer(1, 10),
    "3",
    "Consecutive unhealthy checks of the active endpoint before a failover.",
    "Traffic Manager tolerated failures (0-9, default 3); Route 53 failure threshold (default 3)",
  ),
  recovery_threshold: knob(
    integer(1, 10),
    "3",
    "Consecutive healthy checks of the primary before an automatic failback.",
    "Cloudflare consecutive_up (separate from consecutive_down); Route 53 uses one threshold both ways",
  ),
  check_interval_seconds: knob(
    integer(1, 3600),
    "30",
    "Seconds between two checks (the durable timer of each cycle).",
    "Traffic Manager probing interval (30 s, or 10 s fast); Route 53 (30 s, or 10 s fast)",
  ),
  cooldown_seconds: knob(integer(0, 86400), "300", "After a switch, further switches are refused until lock_until_utc (unless forced).", "Route 53 ARC wait periods; Traffic Manager has no cooldown"),
  failback_mode: knob(
    z.enum(["manual", "automatic"], { error: "must be manual or automatic" }),
    "manual",
    "manual: the secondary stays active once switched (the original); automatic: back to the primary after recovery_threshold healthy checks.",
    "Traffic Manager fails back automatically and cannot be told not to; here it is a choice",
  ),
  probe_timeout_ms: knob(integer(100, 60000), "5000", "Timeout of one health probe (connect, headers and body).", "Traffic Manager probe timeout (5-10 s); Route 53 (4 s connect, 2 s first byte)"),
  probe_expected_status: knob(statusRanges, "200-299", 'Status codes that count as healthy, e.g. "200-299,301".', "Traffic Manager expected status code ranges (default 200)", formatStatusRanges),
  probe_body_match: knob(
    z.string({ error: "must be a string" }).max(256, "must be at most 256 characters"),
    "",
    "Text the response body must contain (empty: the body is not read).",
    "Route 53 string matching (first 5,120 bytes)",
  ),
  probe_max_body_bytes: knob(integer(0, 10485760), "65536", "Bytes of the body read at most; the read stops there.", "Route 53 reads the first 5,120 bytes"),
  probe_follow_redirects: knob(boolean, "false", "Follow redirects (3xx) instead of judging the 3xx status itself.", "Traffic Manager and Route 53 do not follow redirects"),
  standby_check_every: knob(
    integer(0, 1000),
    "1",
    "Probe the standby (the secondary while the primary is active) every Nth interval, in the same cycle and row write as the active endpoint (0: only when a switch verifies it). While the secondary is active the primary is probed every cycle.",
    "Traffic Manager and Route 53 probe every endpoint, standby included, every interval",
  ),
  vantages: knob(
    vantageSelectionSchema,
    "all",
    'The vantages that judge the group\'s endpoints: "all" (the controller\'s own probe and every agent of VANTAGE_AGENTS) or a comma-separated list of names ("controller" is the controller\'s own probe).',
    "Traffic Manager probes from Azure regions it chooses (US only); Route 53 lets you pick health-checker regions (at least 3)",
  ),
  quorum: knob(
    integer(0, 16),
    "0",
    "How many vantages must see an endpoint unhealthy for a check to count as failed (0: a majority of the group's vantages). A check with fewer votes than the quorum is inconclusive: it never counts toward a switch.",
    "Route 53: healthy when more than 18 % of its checkers say so; Cloudflare: the majority of regions",
  ),
  drift_check_every: knob(
    integer(0, 1000),
    "1",
    "With a switch plan: compare each step's actual state with the row every Nth cycle once a switch is verified (0: never).",
    "Traffic Manager and Front Door do not report a hand-made change; Azure Policy evaluates compliance about every 24 h",
  ),
  drift_action: knob(
    z.enum(["report", "reconcile"], { error: "must be report or reconcile" }),
    "report",
    "What drift does: report (status, one audit entry and notification per episode) or reconcile (also apply the row's target again, make-before-break).",
    "Azure Automanage and Azure Policy remediation choose between audit and remediate the same way",
  ),
  decision_mode: knob(
    z.enum(["automatic", "approval", "notify_only"], { error: "must be automatic, approval or notify_only" }),
    "automatic",
    "automatic: the loop switches when the policy says so. approval: it proposes the switch (audit entry, notification) and waits for an operator's approve or reject, or approval_timeout_seconds. notify_only: it proposes and never switches by itself.",
    "Route 53 ARC Region switch has a manual approval block; Traffic Manager and Front Door always switch by themselves",
  ),
  approval_timeout_seconds: knob(
    integer(1, 86400),
    "900",
    "With decision_mode approval: how long a proposal waits for an approve or a reject before approval_timeout_action applies.",
    "Route 53 ARC's approval block waits for its own timeout; a page's escalation window is typically 5-15 min",
  ),
  approval_timeout_action: knob(
    z.enum(["proceed", "abandon"], { error: "must be proceed or abandon" }),
    "abandon",
    "With decision_mode approval, when nobody answers in time: proceed (switch, recorded as unanswered) or abandon (no switch until the condition clears and comes back).",
    "Route 53 ARC's approval block fails the plan execution when it times out; here it is a choice",
  ),
  readiness_check_minutes: knob(
    integer(0, 1440),
    "15",
    "With a switch plan: minutes between two readiness checks by the loop (0: only at init and on demand).",
    "Azure Advisor and Resource Health recommendations refresh on their own schedule, not before an incident",
  ),
};

type Knobs = typeof KNOBS;
export type PolicyField = keyof Knobs;
const FIELDS = Object.keys(KNOBS) as PolicyField[];

/** The one policy schema; `Policy` is its type. */
export const policySchema = z.object(Object.fromEntries(FIELDS.map((f) => [f, KNOBS[f].schema])) as { [F in PolicyField]: Knobs[F]["schema"] });
export type Policy = Readonly<z.output<typeof policySchema>>;
export type FailbackMode = Policy["failback_mode"];

/** A knob as the docs, Bicep and settings checks see it. */
export interface KnobDefinition extends KnobDoc {
  /** Field name on the state row (and in the Policy object). */
  readonly field: PolicyField;
  /** App setting that gives the default for every group. */
  readonly setting: string;
  readonly schema: z.ZodType;
}

export function settingOf(field: PolicyField): string {
  return field.toUpperCase();
}

export const POLICY_KNOBS: readonly KnobDefinition[] = FIELDS.map((field) => ({ field, setting: settingOf(field), ...KNOBS[field] }));
export const POLICY_FIELDS: readonly PolicyField[] = FIELDS;

/** The default text of every knob, keyed by field: what a group gets with no setting and no override. */
export function defaultPolicyText(): Record<PolicyField, string> {
  return Object.fromEntries(FIELDS.map((f) => [f, KNOBS[f].defaultText])) as Record<PolicyField, string>;
}

/** A parsed value as the row stores it (status ranges as their text, the rest as they are). */
export function toRowValue(field: PolicyField, value: unknown): unknown {
  const toRow = KNOBS[field].toRow as ((v: unknown) => unknown) | undefined;
  return toRow ? toRow(value) : value;
}
