import type { RecordSet } from "@azure/arm-dns";
import type { SwitchClients } from "./clients";
import { askNameServer, normalName } from "./nameServers";
import { missingPermissions } from "./permissionsCheck";
import { RESOURCE_ID, parseResourceId, type SwitchStepConfig } from "./plan";
import type { StepCalls } from "./session";
import type { Side, SwitchStepRunner } from "./step";
import { StepError } from "./stepErrors";

type Config = Extract<SwitchStepConfig, { kind: "dns" }>;

const MAX_CONFLICTS = 3;
/** TTL of a record set the step creates when the plan sets none. */
const NEW_RECORD_TTL = 60;

/**
 * Azure DNS: one record set (CNAME or A) in which the plan owns one value per side. The step
 * changes only what it owns: it reads the record set with its ETag and PUTs it back as read,
 * with If-Match, changing only the owned value (a CNAME's target; in an A record set, the other
 * side's address replaced by this side's, every other address kept). Metadata, the TTL (unless
 * the plan sets `ttl`) and everything else in the set survive. A new record set is created with
 * If-None-Match: *. A 412 means someone else changed it: read again and decide again, up to 3
 * times (then a permanent conflict). An alias record set (`targetResource`) is not the plan's to
 * change: refused, never cleared. With `check_name_servers`, verify also asks the name servers
 * (the plan's `name_servers`, else the zone's) and reports "propagating" until each answers the
 * new value. Everything but the name-server list works with DNS Zone Contributor on the one
 * record set (the narrowest scope).
 */
export function dnsStep(config: Config, clients: SwitchClients, calls: StepCalls): SwitchStepRunner {
  const zone = parseResourceId(RESOURCE_ID.dnsZone, config.zone_id);
  const client = () => clients.dns(zone.subscription);
  const label = calls.label;
  const want = (side: Side) => (side === "primary" ? config.primary_value : config.secondary_value);
  const other = (side: Side) => (side === "primary" ? config.secondary_value : config.primary_value);
  const values = (r: RecordSet | undefined): string[] =>
    r === undefined ? [] : config.record_type === "CNAME" ? (r.cnameRecord?.cname ? [r.cnameRecord.cname] : []) : (r.aRecords ?? []).flatMap((a) => (a.ipv4Address ? [a.ipv4Address] : []));
  const has = (r: RecordSet | undefined, value: string) => values(r).some((v) => normalName(v) === normalName(value));
  const show = (r: RecordSet | undefined) => (r ? `${values(r).join(",") || "(no value)"} (TTL ${r.ttl})` : "(none)");
  const read = async (): Promise<RecordSet | undefined> => {
    try {
      return await calls.read("read record set", (abortSignal) => client().recordSets.get(zone.resourceGroup, zone.name, config.record_name, config.record_type, { abortSignal }));
    } catch (err) {
      const e = err as StepError;
      if (e.errorClass === "not_found" && !/parent|zone/i.test(e.message)) return undefined;
      throw e;
    }
  };
  const refuseAlias = (r: RecordSet | undefined) => {
    if (r?.targetResource?.id)
      throw new StepError(
        "refused",
        `${label}: the record set is an alias of ${r.targetResource.id}; the plan cannot set its value without clearing the alias (switch the alias target instead, or use a plain record set)`,
      );
  };
  /** The record set as read with only the owned value changed, or undefined when nothing needs to change. */
  const desired = (current: RecordSet | undefined, to: Side): RecordSet | undefined => {
    const ttl = config.ttl ?? current?.ttl ?? NEW_RECORD_TTL;
    const ttlOk = current?.ttl === ttl;
    if (config.record_type === "CNAME") {
      if (ttlOk && has(current, want(to))) return undefined;
      return { ...current, ttl, cnameRecord: { cname: want(to) } };
    }
    const addresses = values(current);
    const kept = addresses.filter((a) => a !== other(to));
    const next = kept.includes(want(to))
      ? kept
      : addresses.includes(other(to))
        ? addresses.map((a) => (a === other(to) ? want(to) : a)).filter((a, i, all) => all.indexOf(a) === i)
        : [...kept, want(to)];
    if (ttlOk && next.length === addresses.length && next.every((a, i) => a === addresses[i])) return undefined;
    return { ...current, ttl, aRecords: next.map((ipv4Address) => ({ ipv4Address })) };
  };
  const sideOf = (r: RecordSet | undefined): Side | "both" | "unknown" => {
    const p = has(r, config.primary_value);
    const s = has(r, config.secondary_value);
    return p && s ? "both" : p ? "primary" : s ? "secondary" : "unknown";
  };
  const fqdn = config.record_name === "@" ? zone.name : `${config.record_name}.${zone.name}`;
  /** The name servers to ask: the plan's, else the zone's (which needs a read of the zone). */
  const nameServers = async (): Promise<string[]> =>
    config.name_servers ?? ((await calls.read("read zone", (abortSignal) => client().zones.get(zone.resourceGroup, zone.name, { abortSignal }))).nameServers ?? []).map(normalName);

  return {
    kind: "dns",
    label,
    async actual() {
      const r = await read();
      return { side: sideOf(r), detail: r ? show(r) : "record set missing" };
    },
    async apply({ to }) {
      for (let attempt = 1; ; attempt++) {
        const current = await read();
        refuseAlias(current);
        const next = desired(current, to);
        if (!next) return { writes: 0, detail: `already ${want(to)}` };
        try {
          await calls.write({ method: "PUT", resource: `dnszones/${zone.name}/${config.record_type}/${config.record_name}`, before: show(current), after: show(next) }, (abortSignal) =>
            client().recordSets.createOrUpdate(zone.resourceGroup, zone.name, config.record_name, config.record_type, next, {
              abortSignal,
              ...(current?.etag ? { ifMatch: current.etag } : { ifNoneMatch: "*" }),
            }),
          );
          return { writes: 1, detail: `${show(current)} -> ${show(next)}${attempt > 1 ? ` after ${attempt - 1} conflicting change(s)` : ""}` };
        } catch (err) {
          const e = err as StepError;
          if (e.status !== 412) throw e;
          if (attempt >= MAX_CONFLICTS)
            throw new StepError("conflict", `${label}: the record set changed under ${attempt} conditional writes in a row (412 each time): ${e.message}`, undefined, { status: 412 });
        }
      }
    },
    async verify({ to }) {
      const r = await read();
      if (!has(r, want(to)) || has(r, other(to))) return { status: "mismatch", detail: `reads ${show(r)}, expected ${want(to)}` };
      const detail = `${show(r)}, etag ${r?.etag}`;
      if (!config.check_name_servers) return { status: "verified", detail };
      // Azure's name servers serve a change within about 60 s: until each answers it, propagating.
      let servers: string[];
      try {
        servers = await nameServers();
      } catch (err) {
        if ((err as StepError).errorClass !== "forbidden") throw err;
        return { status: "verified", detail: `${detail}; name servers NOT asked: the identity cannot read the zone (a role on the record set only); list them in the step's name_servers` };
      }
      for (const server of servers) {
        const answers = await calls.read(`ask name server ${server}`, () => askNameServer(server, fqdn, config.record_type));
        if (!answers.includes(normalName(want(to)))) return { status: "propagating", detail: `${detail}; name server ${server} answers ${answers.join(",") || "nothing"} for ${fqdn}` };
      }
      return { status: "verified", detail: `${detail}; ${servers.length} name server(s) answer it` };
    },
    async readiness(budgetSeconds) {
      const problems: string[] = [];
      let current: RecordSet | undefined;
      try {
        current = await read();
      } catch (err) {
        return { ready: false, problems: [(err as Error).message] };
      }
      if (current?.targetResource?.id) problems.push(`${label}: the record set is an alias of ${current.targetResource.id}; the plan cannot set its value`);
      const ttl = config.ttl ?? current?.ttl;
      if (budgetSeconds !== undefined && ttl !== undefined && ttl > budgetSeconds) problems.push(`${label}: TTL ${ttl} s exceeds the recovery-time budget (${budgetSeconds} s)`);
      if (config.check_name_servers && !config.name_servers) {
        try {
          await nameServers();
        } catch (err) {
          problems.push(`${label}: check_name_servers needs the zone's name servers, which cannot be read (${(err as Error).message.replace(`${label}: `, "")}); list them in the step's name_servers`);
        }
      }
      const actions = [`Microsoft.Network/dnszones/${config.record_type}/write`, `Microsoft.Network/dnszones/${config.record_type}/read`];
      problems.push(
        ...(
          await missingPermissions(
            clients,
            calls,
            {
              subscription: zone.subscription,
              resourceGroup: zone.resourceGroup,
              namespace: "Microsoft.Network",
              parentPath: `dnszones/${zone.name}`,
              type: config.record_type,
              name: config.record_name,
            },
            actions,
          )
        ).map((p) => `${label}: ${p}`),
      );
      return { ready: problems.length === 0, problems };
    },
  };
}
