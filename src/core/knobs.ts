import { z } from "zod";

/**
 * The per-group policy knobs. Each one has an app setting that gives the default for every
 * group and a snake_case field on the state row that overrides it for one group. Both are
 * parsed by the same schema, so a value that is rejected on the row is rejected as a setting.
 */

export type FailbackMode = "manual" | "automatic";

/** An inclusive range of acceptable HTTP status codes. */
export interface StatusRange {
  readonly min: number;
  readonly max: number;
}

export interface Policy {
  readonly failure_threshold: number;
  readonly recovery_threshold: number;
  readonly check_interval_seconds: number;
  readonly cooldown_seconds: number;
  readonly failback_mode: FailbackMode;
  readonly probe_timeout_ms: number;
  readonly probe_expected_status: readonly StatusRange[];
  readonly probe_body_match: string;
  readonly probe_max_body_bytes: number;
  readonly probe_follow_redirects: boolean;
}

export type PolicyField = keyof Policy;

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
      const raw = v !== null && typeof v === "object" && "value" in v ? (v as { value: unknown }).value : v;
      return typeof raw === "string" && /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
    },
    z.number({ error: "must be an integer" }).int("must be an integer").min(min, `must be at least ${min}`).max(max, `must be at most ${max}`),
  );
}

export const boolean = z.preprocess((v) => {
  if (typeof v !== "string") return v;
  const s = v.trim().toLowerCase();
  return s === "true" ? true : s === "false" ? false : v;
}, z.boolean({ error: 'must be true or false' }));

const statusRanges = z.string({ error: 'must be a string like "200-299,301"' }).transform((text, ctx) => {
  try {
    return parseStatusRanges(text);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
    return z.NEVER;
  }
});

export interface KnobDefinition {
  /** Field name on the state row (and in the Policy object). */
  readonly field: PolicyField;
  /** App setting that gives the default for every group. */
  readonly setting: string;
  /** Default as the app setting would spell it. */
  readonly defaultText: string;
  readonly schema: z.ZodType;
  readonly description: string;
  /** What the knob matches or exceeds among the anchors (README table). */
  readonly anchor: string;
}

export const POLICY_KNOBS: readonly KnobDefinition[] = [
  {
    field: "failure_threshold",
    setting: "FAILURE_THRESHOLD",
    defaultText: "3",
    schema: integer(1, 10),
    description: "Consecutive unhealthy checks of the active endpoint before a failover.",
    anchor: "Traffic Manager tolerated failures (0-9, default 3); Route 53 failure threshold (default 3)",
  },
  {
    field: "recovery_threshold",
    setting: "RECOVERY_THRESHOLD",
    defaultText: "3",
    schema: integer(1, 10),
    description: "Consecutive healthy checks of the primary before an automatic failback.",
    anchor: "Cloudflare consecutive_up (separate from consecutive_down); Route 53 uses one threshold both ways",
  },
  {
    field: "check_interval_seconds",
    setting: "CHECK_INTERVAL_SECONDS",
    defaultText: "30",
    schema: integer(1, 3600),
    description: "Seconds between two checks (the durable timer of each cycle).",
    anchor: "Traffic Manager probing interval (30 s, or 10 s fast); Route 53 (30 s, or 10 s fast)",
  },
  {
    field: "cooldown_seconds",
    setting: "COOLDOWN_SECONDS",
    defaultText: "300",
    schema: integer(0, 86400),
    description: "After a switch, further switches are refused until lock_until_utc (unless forced).",
    anchor: "Route 53 ARC wait periods; Traffic Manager has no cooldown",
  },
  {
    field: "failback_mode",
    setting: "FAILBACK_MODE",
    defaultText: "manual",
    schema: z.enum(["manual", "automatic"], { error: "must be manual or automatic" }),
    description: "manual: the secondary stays active once switched (the original); automatic: back to the primary after recovery_threshold healthy checks.",
    anchor: "Traffic Manager fails back automatically and cannot be told not to; here it is a choice",
  },
  {
    field: "probe_timeout_ms",
    setting: "PROBE_TIMEOUT_MS",
    defaultText: "5000",
    schema: integer(100, 60000),
    description: "Timeout of one health probe (connect, headers and body).",
    anchor: "Traffic Manager probe timeout (5-10 s); Route 53 (4 s connect, 2 s first byte)",
  },
  {
    field: "probe_expected_status",
    setting: "PROBE_EXPECTED_STATUS",
    defaultText: "200-299",
    schema: statusRanges,
    description: 'Status codes that count as healthy, e.g. "200-299,301".',
    anchor: "Traffic Manager expected status code ranges (default 200)",
  },
  {
    field: "probe_body_match",
    setting: "PROBE_BODY_MATCH",
    defaultText: "",
    schema: z.string({ error: "must be a string" }).max(256, "must be at most 256 characters"),
    description: "Text the response body must contain (empty: any body).",
    anchor: "Route 53 string matching (first 5,120 bytes)",
  },
  {
    field: "probe_max_body_bytes",
    setting: "PROBE_MAX_BODY_BYTES",
    defaultText: "65536",
    schema: integer(0, 10485760),
    description: "Bytes of the body read at most; the read stops there.",
    anchor: "Route 53 reads the first 5,120 bytes",
  },
  {
    field: "probe_follow_redirects",
    setting: "PROBE_FOLLOW_REDIRECTS",
    defaultText: "false",
    schema: boolean,
    description: "Follow redirects (3xx) instead of judging the 3xx status itself.",
    anchor: "Traffic Manager and Route 53 do not follow redirects",
  },
];

function issueText(error: z.ZodError): string {
  return error.issues.map((i) => i.message).join("; ");
}

/** Parses one knob's value; the error text says which value and why, the caller says where. */
export function parseKnob(knob: KnobDefinition, value: unknown): { ok: true; value: unknown } | { ok: false; message: string } {
  const result = knob.schema.safeParse(value);
  return result.success ? { ok: true, value: result.data } : { ok: false, message: issueText(result.error) };
}
