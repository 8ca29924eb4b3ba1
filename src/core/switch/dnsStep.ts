import type { RecordSet } from "@azure/arm-dns";
import type { SwitchClients } from "./clients";
import { askNameServer, normalName } from "./nameServers";
import { missingPermissions } from "./permissionsCheck";
import { RESOURCE_ID, parseResourceId, type SwitchStepConfig } from "./plan";
import type { Side, SwitchStepRunner } from "./step";
import { toStepError } from "./stepErrors";

type Config = Extract<SwitchStepConfig, { kind: "dns" }>;

const MAX_CONFLICTS = 3;

/**
 * Azure DNS: one record set (CNAME or A) whose value names the active side. Reads the record
 * set with its ETag and writes only when the value or TTL differs, with If-Match (or
 * If-None-Match: * when it does not exist yet). A 412 means someone else changed it: read
 * again and decide again, up to 3 times. One record, so there is no moment with no value.
 * With `check_name_servers`, verify also asks the zone's own name servers (or the plan's
 * `name_servers`) and reports "propagating" until each answers the new value.
 */
export function dnsStep(config: Config, clients: SwitchClients, now: () => number = Date.now): SwitchStepRunner {
  const zone = parseResourceId(RESOURCE_ID.dnsZone, config.zone_id);
  const client = () => clients.dns(zone.subscription);
  const label = `dns ${config.record_type} ${config.record_name}.${zone.name}`;
  const valueOf = (r: RecordSet | undefined): string | undefined =>
    r === undefined ? undefined : config.record_type === "CNAME" ? r.cnameRecord?.cname : (r.aRecords ?? []).map((a) => a.ipv4Address).join(",");
  const want = (side: Side) => (side === "primary" ? config.primary_value : config.secondary_value);
  const read = async (): Promise<RecordSet | undefined> => {
    try {
      return await client().recordSets.get(zone.resourceGroup, zone.name, config.record_name, config.record_type);
    } catch (err) {
      const e = toStepError(err, `${label}: read record set`, now());
      if (e.errorClass === "not_found" && !/parent|zone/i.test(e.message)) return undefined;
      throw e;
    }
  };
  const zoneNameServers = async (): Promise<string[]> => {
    try {
      return ((await client().zones.get(zone.resourceGroup, zone.name)).nameServers ?? []).map(normalName);
    } catch (err) {
      throw toStepError(err, `${label}: read zone`, now());
    }
  };
  const sideOf = (value: string | undefined): Side | "unknown" => (value === config.primary_value ? "primary" : value === config.secondary_value ? "secondary" : "unknown");

  return {
    kind: "dns",
    label,
    async actual() {
      const r = await read();
      const value = valueOf(r);
      return { side: sideOf(value), detail: r ? `${value} (TTL ${r.ttl})` : "record set missing" };
    },
    async apply({ to }) {
      for (let attempt = 1; ; attempt++) {
        const current = await read();
        if (current && valueOf(current) === want(to) && current.ttl === config.ttl) return { writes: 0, detail: `already ${want(to)}` };
        const record: RecordSet = config.record_type === "CNAME" ? { ttl: config.ttl, cnameRecord: { cname: want(to) } } : { ttl: config.ttl, aRecords: [{ ipv4Address: want(to) }] };
        try {
          await client().recordSets.createOrUpdate(zone.resourceGroup, zone.name, config.record_name, config.record_type, record, current?.etag ? { ifMatch: current.etag } : { ifNoneMatch: "*" });
          return { writes: 1, detail: `${valueOf(current) ?? "(none)"} -> ${want(to)}${attempt > 1 ? ` after ${attempt - 1} conflicting change(s)` : ""}` };
        } catch (err) {
          const e = toStepError(err, `${label}: write record set`, now());
          if (e.errorClass !== "conflict" || attempt >= MAX_CONFLICTS) throw e;
        }
      }
    },
    async verify({ to }) {
      const r = await read();
      const value = valueOf(r);
      if (value !== want(to)) return { status: "mismatch", detail: `reads ${value ?? "(missing)"}, expected ${want(to)}` };
      const detail = `${value} (TTL ${r?.ttl}, etag ${r?.etag})`;
      if (!config.check_name_servers) return { status: "verified", detail };
      // Azure's name servers serve a change within about 60 s: until each answers it, propagating.
      const servers = config.name_servers ?? (await zoneNameServers());
      const fqdn = config.record_name === "@" ? zone.name : `${config.record_name}.${zone.name}`;
      for (const server of servers) {
        const answers = await askNameServer(server, fqdn, config.record_type);
        if (!answers.includes(normalName(want(to)))) return { status: "propagating", detail: `${detail}; name server ${server} answers ${answers.join(",") || "nothing"} for ${fqdn}` };
      }
      return { status: "verified", detail: `${detail}; ${servers.length} name server(s) answer it` };
    },
    async readiness(budgetSeconds) {
      const problems: string[] = [];
      try {
        await client().zones.get(zone.resourceGroup, zone.name);
      } catch (err) {
        return { ready: false, problems: [toStepError(err, `${label}: read zone`, now()).message] };
      }
      if (budgetSeconds !== undefined && config.ttl > budgetSeconds) problems.push(`${label}: TTL ${config.ttl} s exceeds the recovery-time budget (${budgetSeconds} s)`);
      const actions = [`Microsoft.Network/dnszones/${config.record_type}/write`, `Microsoft.Network/dnszones/${config.record_type}/read`];
      problems.push(...(await missingPermissions(clients, { subscription: zone.subscription, resourceGroup: zone.resourceGroup, namespace: "Microsoft.Network", parentPath: `dnszones/${zone.name}`, type: config.record_type, name: config.record_name }, actions)).map((p) => `${label}: ${p}`));
      return { ready: problems.length === 0, problems };
    },
  };
}
