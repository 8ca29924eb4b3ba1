#!/usr/bin/env node
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import type { ApprovalResponse } from "../core/operations/approval";
import type { DrillResponse } from "../core/operations/drill";
import type { GroupOverview } from "../core/overview";
import { ApiClient, CliError, apiBase, bearerToken } from "./api";
import { readFileSync } from "node:fs";
import { drillText, groupsTable, historyTable, planText } from "./format";

/**
 * failover: the operator's command line for the app's HTTP API. Exit codes: 0 done (or
 * nothing to do), 2 refused by policy (cooldown, unhealthy standby, paused), 1 any error.
 * The base URL, key and (with Entra ID on) bearer token come from --url/--key/--token or
 * FAILOVER_URL/FAILOVER_KEY/FAILOVER_TOKEN.
 */

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Waits between two refreshes of watch (tests pass a shorter one). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Refusals that leave the world as it was because the policy said no. */
const POLICY_REFUSALS = new Set(["cooldown_active", "standby_unhealthy", "paused", "held", "not_approved", "drill_running", "switch_in_progress"]);

function positiveInt(name: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`${name} must be an integer from 1 to ${max}`);
    return n;
  };
}

/** 90s, 30m, 2h or 1d from now, as an ISO time. */
function durationFromNow(value: string): string {
  const match = /^(\d{1,6})([smhd])$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError("use a number and a unit: 90s, 30m, 2h or 1d");
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as "s" | "m" | "h" | "d"];
  return new Date(Date.now() + Number(match[1]) * unit * 1000).toISOString();
}

/** The end time a command was given as --until (an ISO time) or --for (a duration from now), not both. */
function endTime(command: string, o: { until?: string; for?: string }): string | undefined {
  if (o.until && o.for) throw new CliError(`${command}: give --until or --for, not both`);
  return o.until ?? o.for;
}

function knob(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf("=");
  if (at <= 0) throw new InvalidArgumentError(`expected field=value, such as failure_threshold=2 (got "${value}")`);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

/** What --help shows for a secret's default: where it came from, never its value. */
function secretFromEnv(value: string | undefined, name: string): string | undefined {
  return value === undefined ? undefined : `from ${name}`;
}

function typedKnobValue(raw: string): unknown {
  if (/^-?\d+$/.test(raw)) return Number(raw);
  if (raw === "true" || raw === "false") return raw === "true";
  return raw;
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let code = 0;
  const sleep = io.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const program = new Command("failover")
    .description("Operate the failover app through its HTTP API.")
    .addOption(new Option("--url <url>", "the app's address (env FAILOVER_URL)").default(io.env.FAILOVER_URL ?? "http://127.0.0.1:7071"))
    .addOption(new Option("--key <key>", "function key, sent as x-functions-key (env FAILOVER_KEY)").default(io.env.FAILOVER_KEY, secretFromEnv(io.env.FAILOVER_KEY, "FAILOVER_KEY")))
    .addOption(
      new Option("--token <token>", "Entra ID access token for an app with authentication on, sent as a bearer token (env FAILOVER_TOKEN)").default(
        io.env.FAILOVER_TOKEN,
        secretFromEnv(io.env.FAILOVER_TOKEN, "FAILOVER_TOKEN"),
      ),
    )
    .option("--json", "print the API's JSON answer instead of text", false)
    .option("--timeout <seconds>", "give up on a request after this many seconds", positiveInt("--timeout", 300), 15)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showHelpAfterError("(failover --help lists the commands; failover <command> --help its options)");

  const globals = () => program.opts<{ url: string; key?: string; token?: string; json: boolean; timeout: number }>();
  const client = () => new ApiClient(apiBase(globals().url), globals().key, globals().timeout * 1000, bearerToken(globals().token));
  const print = (json: unknown, text: string) => io.out(globals().json ? JSON.stringify(json, null, 2) : text);
  const groupQuery = (group: string | undefined) => (group ? `?group=${encodeURIComponent(group)}` : "");

  async function overviews(group?: string): Promise<{ now: string; groups: GroupOverview[] }> {
    const answer = (await client().expectOk("GET", "groups")) as { now: string; groups: GroupOverview[] };
    if (!group) return answer;
    const groups = answer.groups.filter((g) => g.group === group);
    if (groups.length === 0) throw new CliError(`no group named "${group}" (groups: ${answer.groups.map((g) => g.group).join(", ") || "none"})`);
    return { now: answer.now, groups };
  }

  /** Prints a switch or control answer and sets the exit code: 2 when the policy refused. */
  function outcome(
    action: string,
    body: { changed?: boolean; reason?: string; active_target?: string; forced?: boolean; paused?: boolean; paused_until_utc?: string; held?: boolean; hold_until_utc?: string; hold_owner?: string },
  ): void {
    if (body.changed === false && body.reason && POLICY_REFUSALS.has(body.reason)) code = 2;
    const text =
      body.changed === false
        ? `${action}: not done (${body.reason ?? "nothing to change"})`
        : `${action}: done${body.active_target ? `; active target ${body.active_target}` : ""}${body.forced ? " (forced, break-glass)" : ""}${body.paused ? `; paused${body.paused_until_utc ? ` until ${body.paused_until_utc}` : ""}` : ""}${body.held ? `; failback held by ${body.hold_owner ?? "?"} until ${body.hold_until_utc}` : body.held === false ? "; no failback hold" : ""}`;
    print(body, text);
  }

  program
    .command("status")
    .description("a table of every group: active target, health, cooldown, loop, pause, traffic")
    .option("-g, --group <name>", "only this group")
    .action(async (o: { group?: string }) => {
      const answer = await overviews(o.group);
      print(answer, groupsTable(answer.groups));
    });

  program
    .command("watch")
    .description("the status table, refreshed until interrupted")
    .option("-g, --group <name>", "only this group")
    .option("--interval <seconds>", "seconds between refreshes", positiveInt("--interval", 3600), 5)
    .option("--count <n>", "stop after n refreshes", positiveInt("--count", 1_000_000))
    .action(async (o: { group?: string; interval: number; count?: number }) => {
      for (let i = 1; o.count === undefined || i <= o.count; i++) {
        if (i > 1) await sleep(o.interval * 1000);
        try {
          const answer = await overviews(o.group);
          io.out(globals().json ? JSON.stringify(answer) : `${answer.now}\n${groupsTable(answer.groups)}\n`);
        } catch (err) {
          // A watch outlives a storage outage: say so and keep refreshing.
          if (!(err instanceof CliError)) throw err;
          io.err(`${new Date().toISOString()} ${err.message}`);
          code = 1;
        }
      }
    });

  program
    .command("history")
    .description("the group's audit history, newest first")
    .option("-g, --group <name>", "the group (default: the app's default group)")
    .option("--limit <n>", "entries", positiveInt("--limit", 100), 20)
    .action(async (o: { group?: string; limit: number }) => {
      const answer = await client().expectOk("GET", `history?limit=${o.limit}${o.group ? `&group=${encodeURIComponent(o.group)}` : ""}`);
      print(answer, historyTable(answer.entries));
    });

  program
    .command("init")
    .description("create a group's row (an existing row is left untouched)")
    .option("-g, --group <name>", "the group (default: the app's default group, from its settings)")
    .option("--primary <url>", "primary health URL")
    .option("--secondary <url>", "secondary health URL")
    .option("--set <field=value>", "a policy override on the row, e.g. failure_threshold=2 (repeatable)", knob)
    .action(async (o: { group?: string; primary?: string; secondary?: string; set?: Record<string, string> }) => {
      const overrides = Object.fromEntries(Object.entries(o.set ?? {}).map(([k, v]) => [k, typedKnobValue(v)]));
      const body = { ...(o.group ? { group: o.group } : {}), ...(o.primary ? { primary_endpoint: o.primary } : {}), ...(o.secondary ? { secondary_endpoint: o.secondary } : {}), ...overrides };
      const answer = await client().expectOk("POST", "init", body);
      print(answer, `${answer.group}: ${answer.created ? "created" : "already exists, left untouched"}; active target ${answer.state?.active_target}`);
    });

  program
    .command("start")
    .description("start the group's orchestration unless it is running")
    .option("-g, --group <name>", "the group")
    .action(async (o: { group?: string }) => {
      const answer = await client().expectOk("POST", `start${groupQuery(o.group)}`);
      print(answer, `orchestration ${answer.id}: status at ${answer.statusQueryGetUri}`);
    });

  program
    .command("pause")
    .description("no automatic switch for the group (checks go on)")
    .option("-g, --group <name>", "the group")
    .option("--until <time>", "resume by itself at this ISO time")
    .option("--for <duration>", "resume by itself after 90s, 30m, 2h, 1d", durationFromNow)
    .requiredOption("--reason <text>", "why (recorded in the audit history)")
    .action(async (o: { group?: string; until?: string; for?: string; reason: string }) => {
      const until = endTime("pause", o);
      outcome("pause", await client().expectOk("POST", `pause${groupQuery(o.group)}`, { reason: o.reason, ...(until ? { until } : {}) }));
    });

  program
    .command("resume")
    .description("automatic switching is back on for the group")
    .option("-g, --group <name>", "the group")
    .requiredOption("--reason <text>", "why (recorded in the audit history)")
    .action(async (o: { group?: string; reason: string }) => {
      outcome("resume", await client().expectOk("POST", `resume${groupQuery(o.group)}`, { reason: o.reason }));
    });

  program
    .command("hold")
    .description("no automatic failback for the group until a time at most 72 h away (you own the hold; a failover away from a failing side still happens)")
    .option("-g, --group <name>", "the group")
    .option("--until <time>", "the hold ends by itself at this ISO time")
    .option("--for <duration>", "the hold ends by itself after 90s, 30m, 2h, 1d (at most 72h)", durationFromNow)
    .requiredOption("--reason <text>", "why (recorded in the audit history and shown in the console)")
    .action(async (o: { group?: string; until?: string; for?: string; reason: string }) => {
      const until = endTime("hold", o);
      if (!until) throw new CliError("hold: give --until or --for: a hold always ends by itself (at most 72h)");
      outcome("hold", await client().expectOk("POST", `hold${groupQuery(o.group)}`, { reason: o.reason, until }));
    });

  program
    .command("release")
    .description("end the group's failback hold before its time")
    .option("-g, --group <name>", "the group")
    .requiredOption("--reason <text>", "why (recorded in the audit history)")
    .action(async (o: { group?: string; reason: string }) => {
      outcome("release", await client().expectOk("POST", `release${groupQuery(o.group)}`, { reason: o.reason }));
    });

  /** Approves or rejects the group's proposal: the one named, or the one the group shows now (printed first). */
  async function decide(action: "approve" | "reject", o: { group?: string; proposal?: string; reason: string }): Promise<void> {
    let id = o.proposal;
    if (!id) {
      const answer = (await client().expectOk("GET", `status${groupQuery(o.group)}`)) as { group?: string; state?: { proposal_id?: string } };
      id = answer.state?.proposal_id;
      if (!id) throw new CliError(`${action}: group "${answer.group ?? o.group ?? "?"}" has no switch proposal (decision_mode approval proposes one when the policy wants a switch)`);
    }
    const body = (await client().expectOk("POST", `${action}${groupQuery(o.group)}`, { proposal_id: id, reason: o.reason })) as ApprovalResponse;
    const p = body.proposal;
    const what = p
      ? `; ${p.kind} ${p.from} -> ${p.from === "primary" ? "secondary" : "primary"} proposed at ${p.created_utc ?? "?"} (${p.id}) is ${p.state}${p.state === "approved" ? ": the loop makes it now" : ""}`
      : "";
    print(body, `${action}: ${body.changed ? "done" : "nothing to change"}${what}`);
  }

  program
    .command("approve")
    .description("approve the switch the loop proposes for the group (decision_mode approval); the loop makes it at once")
    .option("-g, --group <name>", "the group")
    .option("--proposal <id>", "the proposal to approve (default: the group's proposal as read now)")
    .requiredOption("--reason <text>", "why (recorded in the audit history)")
    .action((o: { group?: string; proposal?: string; reason: string }) => decide("approve", o));

  program
    .command("reject")
    .description("reject the switch the loop proposes for the group: no automatic switch until its condition clears")
    .option("-g, --group <name>", "the group")
    .option("--proposal <id>", "the proposal to reject (default: the group's proposal as read now)")
    .requiredOption("--reason <text>", "why (recorded in the audit history)")
    .action((o: { group?: string; proposal?: string; reason: string }) => decide("reject", o));

  program
    .command("failover")
    .description("switch the group away from --from (default: its active target as read now)")
    .option("-g, --group <name>", "the group")
    .addOption(new Option("--from <target>", "the target to move away from").choices(["primary", "secondary"]))
    .option("--force", "break-glass: skip the cooldown and the standby check (recorded as forced)", false)
    .requiredOption("--reason <text>", "why (recorded in the audit history)")
    .action(async (o: { group?: string; from?: string; force: boolean; reason: string }) => {
      const api = client();
      const from = o.from ?? (await api.expectOk("GET", `status${groupQuery(o.group)}`)).state?.active_target;
      const body = { expected_from: from, reason: o.reason, ...(o.force ? { force: true } : {}) };
      outcome(`failover from ${from}`, await api.expectOk("POST", `do_failover${groupQuery(o.group)}`, body));
    });

  program
    .command("failback")
    .description("switch the group back to the primary (verified healthy unless forced)")
    .option("-g, --group <name>", "the group")
    .option("--force", "break-glass: skip the cooldown and the primary check (recorded as forced)", false)
    .requiredOption("--reason <text>", "why (recorded in the audit history)")
    .action(async (o: { group?: string; force: boolean; reason: string }) => {
      outcome("failback", await client().expectOk("POST", `failback${groupQuery(o.group)}`, { reason: o.reason, ...(o.force ? { force: true } : {}) }));
    });

  const plan = program.command("plan").description("a group's switch plan: show it, set it from a file, check its readiness, remove it");
  plan
    .command("show")
    .description("the plan as it runs (steps, where it comes from, its last readiness) and the row's ETag")
    .option("-g, --group <name>", "the group")
    .action(async (o: { group?: string }) => {
      const answer = await client().expectOk("GET", `plan${groupQuery(o.group)}`);
      print(answer, planText(answer));
    });
  plan
    .command("set")
    .description("set the plan from a JSON file: validated, its readiness checked and shown; --if-match refuses it when the row changed since plan show")
    .option("-g, --group <name>", "the group")
    .requiredOption("--file <path>", 'the plan, JSON ({ "steps": [...] })')
    .option("--if-match <etag>", "the ETag plan show printed")
    .requiredOption("--reason <text>", "why (recorded in the audit history)")
    .action(async (o: { group?: string; file: string; ifMatch?: string; reason: string }) => {
      let body: unknown;
      try {
        body = JSON.parse(readFileSync(o.file, "utf8"));
      } catch (err) {
        throw new CliError(`--file ${o.file}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : `not JSON (${(err as Error).message})`}`);
      }
      const answer = await client().expectOk("PUT", `plan${groupQuery(o.group)}`, { plan: body, reason: o.reason }, o.ifMatch ? { "if-match": o.ifMatch } : {});
      print(answer, `plan ${answer.changed ? "set" : "unchanged"}: ${planText(answer)}`);
    });
  plan
    .command("check")
    .description("can every step run now (resources, roles, TTLs)? Reads only")
    .option("-g, --group <name>", "the group")
    .action(async (o: { group?: string }) => {
      const answer = await client().expectOk("GET", `readiness${groupQuery(o.group)}`);
      if (answer.plan !== "none" && !answer.ready) code = 2;
      print(
        answer,
        answer.plan === "none" ? "no switch plan" : answer.ready ? `READY (plan ${answer.plan})` : `NOT READY (plan ${answer.plan}):\n${answer.problems.map((p: string) => `  - ${p}`).join("\n")}`,
      );
    });
  plan
    .command("remove")
    .description("remove the row's plan (the default group falls back to SWITCH_PLAN)")
    .option("-g, --group <name>", "the group")
    .option("--if-match <etag>", "the ETag plan show printed")
    .requiredOption("--reason <text>", "why (recorded in the audit history)")
    .action(async (o: { group?: string; ifMatch?: string; reason: string }) => {
      const answer = await client().expectOk("DELETE", `plan${groupQuery(o.group)}`, { reason: o.reason }, o.ifMatch ? { "if-match": o.ifMatch } : {});
      print(answer, `plan ${answer.changed ? "removed" : "was not on the row"}: ${planText(answer)}`);
    });

  program
    .command("retry-switch")
    .description("apply a held or undone switch again, once its cause is fixed (the role granted, the lock removed)")
    .option("-g, --group <name>", "the group")
    .requiredOption("--reason <text>", "what was fixed (recorded in the audit history)")
    .action(async (o: { group?: string; reason: string }) => {
      outcome("retry-switch", await client().expectOk("POST", `retry_switch${groupQuery(o.group)}`, { reason: o.reason }));
    });

  program
    .command("drill")
    .description("a switchover and, once verified, a switchback through the switch plan, measured against its budget; --dry-run: readiness and read-back only")
    .option("-g, --group <name>", "the group")
    .option("--dry-run", "readiness and a read-back of every step, nothing written to Azure", false)
    .requiredOption("--reason <text>", "why (recorded in the audit history)")
    .action(async (o: { group?: string; dryRun: boolean; reason: string }) => {
      const body = (await client().expectOk("POST", `drill${groupQuery(o.group)}`, { reason: o.reason, ...(o.dryRun ? { dry_run: true } : {}) })) as DrillResponse;
      if (!body.changed && body.reason && POLICY_REFUSALS.has(body.reason)) code = 2;
      print(body, drillText(body));
    });

  // With --json, a failure is a JSON object on stdout too, so a script's parse never meets an empty output.
  const json = () => argv.includes("--json");
  const failed = (error: string, message: string, exitCode: number, status?: number): number => {
    if (json()) io.out(JSON.stringify({ error, message, ...(status !== undefined ? { status } : {}) }, null, 2));
    return exitCode;
  };
  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : failed("usage", err.message.replace(/^error: /, ""), 1);
    if (err instanceof CliError) {
      io.err(`failover: ${err.message}`);
      return failed(err.code, err.message, err.exitCode, err.status);
    }
    io.err(`failover: ${(err as Error).stack ?? String(err)}`);
    return failed("internal", (err as Error).message, 1);
  }
}

if (require.main === module) {
  void runCli(process.argv.slice(2), { out: (s) => console.log(s), err: (s) => console.error(s), env: process.env }).then((code) => (process.exitCode = code));
}
