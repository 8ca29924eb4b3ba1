import { TableClient, odata, type TableEntityResult, type TransactionAction } from "@azure/data-tables";
import type { StorageConfig } from "./config";
import { FailoverError, describeError, invalidRequest } from "./errors";
import { redact } from "./redact";
import { STORAGE_CALL_TIMEOUT_MS } from "./storageTimeout";
import { createTableClient, storageCredential } from "./tableClient";
import { isPlainRow, leanRowReplace, type RowReplace } from "./tableRowReplace";
import { PARTITION_KEY, parseRow, toRowProperties, type FailoverState, type ParsedRow } from "./state";

/** The state store of a table: reads and every other call through the SDK, the row Replace as one lean REST call where the setting allows (tableRowReplace.ts). */
export function createStateStore(storage: StorageConfig, tableName: string, timeoutMs = STORAGE_CALL_TIMEOUT_MS): StateStore {
  const credential = storage.kind === "identity" ? storageCredential(storage) : undefined;
  return new StateStore(createTableClient(storage, tableName, timeoutMs), leanRowReplace(storage, tableName, timeoutMs, credential));
}

export function statusCodeOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof code === "number" ? code : undefined;
}

/** Turns a storage SDK failure into a FailoverError that says what was being done. */
export function storageError(action: string, table: TableClient, err: unknown): FailoverError {
  if (err instanceof FailoverError) return err;
  return new FailoverError("storage_unavailable", redact(`Table storage failed while ${action} (table ${table.tableName} at ${table.url.split("?")[0]}): ${describeError(err)}`), { cause: err });
}

export interface LoadedState extends ParsedRow {
  readonly group: string;
  readonly etag: string;
  readonly raw: Readonly<Record<string, unknown>>;
}

/** Tables this process has already created or found: created once, not on every call. */
const ensured = new WeakMap<TableClient, Promise<void>>();

/**
 * Creates the table once per process (a create of an existing table is a billed 409, so the
 * watchdog's happy path must not repeat it); a failure is forgotten so the next call retries.
 */
export function ensureTable(table: TableClient): Promise<void> {
  let pending = ensured.get(table);
  if (!pending) {
    pending = table.createTable().catch((err: unknown) => {
      ensured.delete(table);
      throw storageError("creating the table", table, err);
    });
    ensured.set(table, pending);
  }
  return pending;
}

/**
 * The single source of truth. Every write is conditional: createEntity for the first,
 * updateEntity("Replace") with the ETag read after that. No upsert, no "*" etag.
 */
export class StateStore {
  /** Per group, the row as this process last wrote it, and when (see lastWritten). */
  private readonly written = new Map<string, { readonly loaded: LoadedState; readonly at: number }>();

  /** `replaceRow`: the lean Replace (tableRowReplace.ts); without it, or for a row it does not write, the SDK writes. */
  constructor(
    readonly table: TableClient,
    private readonly replaceRow?: RowReplace,
  ) {}

  /**
   * The row as this process last wrote it, with the ETag that write returned, and how long ago.
   * Only for a caller that writes on that ETag whatever it decides (the loop's check): a row
   * changed since by anyone else fails the write (412), and the caller reads it again.
   */
  lastWritten(group: string): { loaded: LoadedState; ageMs: number } | undefined {
    const entry = this.written.get(group);
    return entry && { loaded: entry.loaded, ageMs: Date.now() - entry.at };
  }

  /**
   * The row just written, as the next check decides on it: the state written and the row's own
   * overrides (a Replace keeps every column it does not manage), not parsed again. That a written
   * state reads back as itself (parseRow(toRowProperties(state)) is the state) is an invariant
   * the simulation checks on every write.
   */
  private remember(loaded: LoadedState, etag: string | undefined, properties: Record<string, unknown>, state: FailoverState): void {
    this.written.delete(loaded.group);
    if (!etag) return;
    const raw = { ...properties, etag };
    this.written.set(loaded.group, { loaded: { group: loaded.group, etag, raw, state, overrides: loaded.overrides, overrideIssues: loaded.overrideIssues }, at: Date.now() });
  }

  ensureTable(): Promise<void> {
    return ensureTable(this.table);
  }

  notFound(group: string): FailoverError {
    return new FailoverError("state_not_found", `No state row for group "${group}" (table ${this.table.tableName}, PartitionKey ${PARTITION_KEY}, RowKey ${group}); create it with POST /api/init`);
  }

  async loadRaw(group: string): Promise<TableEntityResult<Record<string, unknown>>> {
    try {
      return await this.table.getEntity<Record<string, unknown>>(PARTITION_KEY, group);
    } catch (err) {
      if (statusCodeOf(err) === 404) throw this.notFound(group);
      throw storageError(`reading group "${group}"`, this.table, err);
    }
  }

  /**
   * The two fields a switch's fence compares (its target and intent), read alone: a small read,
   * without the row's other fields (no validation: the fence only compares them).
   */
  async intentOf(group: string): Promise<{ active_target: unknown; switch_intent_id: unknown }> {
    try {
      const row = await this.table.getEntity<Record<string, unknown>>(PARTITION_KEY, group, { queryOptions: { select: ["active_target", "switch_intent_id"] } });
      return { active_target: row.active_target, switch_intent_id: row.switch_intent_id ?? undefined };
    } catch (err) {
      if (statusCodeOf(err) === 404) throw this.notFound(group);
      throw storageError(`reading group "${group}"`, this.table, err);
    }
  }

  async load(group: string): Promise<LoadedState> {
    const raw = await this.loadRaw(group);
    return { group, etag: raw.etag, raw, ...parseRow(group, raw) };
  }

  /** Replaces the row if its ETag is still `loaded.etag`; returns false on a lost race (412). */
  async replace(loaded: LoadedState, next: FailoverState): Promise<boolean> {
    const row = toRowProperties(next, loaded.raw);
    const properties = { ...row, partitionKey: PARTITION_KEY, rowKey: loaded.group };
    try {
      const { etag } =
        this.replaceRow && isPlainRow(row) ? await this.replaceRow(PARTITION_KEY, loaded.group, row, loaded.etag) : await this.table.updateEntity(properties, "Replace", { etag: loaded.etag });
      this.remember(loaded, etag, properties, next);
      return true;
    } catch (err) {
      this.written.delete(loaded.group);
      const status = statusCodeOf(err);
      if (status === 412) return false;
      if (status === 404) throw this.notFound(loaded.group);
      // A row grown past Table storage's limits must not refuse every future write: the
      // transition summary is only a convenience (the audit log has the full record), so drop it and go on.
      if (status === 400 && /PropertyValueTooLarge|EntityTooLarge|RequestBodyTooLarge/.test(String((err as Error).message)) && next.recent_transitions.length > 0) {
        return this.replace({ ...loaded, raw: { ...loaded.raw, recent_transitions: "[]" } }, { ...next, recent_transitions: [] });
      }
      throw storageError(`writing group "${loaded.group}"`, this.table, err);
    }
  }

  /**
   * Records an error on a row that may be unreadable as state (a malformed row): merges only
   * last_status, last_error and last_check_utc, still conditional on the ETag just read.
   */
  async recordError(group: string, lastStatus: string, message: string, at: Date): Promise<void> {
    this.written.delete(group);
    const raw = await this.loadRaw(group);
    try {
      await this.table.updateEntity({ partitionKey: PARTITION_KEY, rowKey: group, last_status: lastStatus, last_error: message.slice(0, 1000), last_check_utc: at.toISOString() }, "Merge", {
        etag: raw.etag,
      });
    } catch (err) {
      if (statusCodeOf(err) === 412) return; // someone else wrote a newer row; their status stands
      throw storageError(`recording an error on group "${group}"`, this.table, err);
    }
  }

  /**
   * Every group's row in one partition query (pages of 1,000), each parsed, or the error that
   * names what is wrong with it: what the overview reads, instead of one read per group.
   */
  async loadAll(): Promise<Array<{ group: string; loaded?: LoadedState; error?: FailoverError }>> {
    const out: Array<{ group: string; loaded?: LoadedState; error?: FailoverError }> = [];
    try {
      for await (const raw of this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${PARTITION_KEY}` } })) {
        const group = String(raw.rowKey);
        if (group.startsWith(REGISTRY_PREFIX)) continue;
        try {
          out.push({ group, loaded: { group, etag: String(raw.etag), raw, ...parseRow(group, raw) } });
        } catch (err) {
          if (!(err instanceof FailoverError)) throw err;
          out.push({ group, error: err });
        }
      }
    } catch (err) {
      if (statusCodeOf(err) === 404) return [];
      throw storageError("listing groups", this.table, err);
    }
    return out;
  }

  /** Every group's name (the partition's rows, without the registry's own entities). */
  async listGroups(): Promise<string[]> {
    return (await this.listPartition()).filter((key) => !key.startsWith(REGISTRY_PREFIX));
  }

  private async listPartition(): Promise<string[]> {
    const keys: string[] = [];
    try {
      const pages = this.table.listEntities<Record<string, unknown>>({
        queryOptions: { filter: odata`PartitionKey eq ${PARTITION_KEY}`, select: ["RowKey"] },
      });
      for await (const entity of pages) keys.push(String(entity.rowKey));
    } catch (err) {
      if (statusCodeOf(err) === 404) return []; // no table yet: no group has been created
      throw storageError("listing groups", this.table, err);
    }
    return keys;
  }

  /**
   * Creates a group's row, in one entity-group transaction with its name claim (names are
   * unique regardless of case: "State" is refused while "state" exists) and the group count
   * (never above `maxGroups`, however many inits race: the count is replaced on its ETag).
   * Answers false, writing nothing, when the group exists. A claim left by a row deleted by
   * hand (its row confirmed gone by a read of its own) is reused, and at the limit such claims
   * are dropped from the count in one transaction.
   */
  async createGroup(group: string, state: FailoverState, extra: Readonly<Record<string, unknown>>, maxGroups: number): Promise<boolean> {
    const claimKey = claimKeyOf(group);
    for (let attempt = 1; attempt <= 8; attempt++) {
      const [keys, counter, claim] = await Promise.all([this.listPartition(), this.registryEntity(COUNT_KEY), this.registryEntity(claimKey)]);
      const groups = keys.filter((k) => !k.startsWith(REGISTRY_PREFIX));
      if (groups.includes(group)) return false;
      const twin = groups.find((g) => g.toLowerCase() === group.toLowerCase());
      if (twin) throw caseTwin(group, twin);
      if (claim && claim.group !== "") {
        // A claim is written with its row: a claim whose row is there names the group that holds the name.
        const owner = String(claim.group);
        if (await this.rowExists(owner)) {
          if (owner === group) return false;
          throw caseTwin(group, owner);
        }
      }
      const count = typeof counter?.count === "number" ? counter.count : groups.length;
      // A claim still counted (its row deleted by hand) is taken over as it is; an emptied one counts again.
      const counted = claim !== undefined && claim.group !== "";
      if (count >= maxGroups && !counted) {
        if (counter && (await this.dropStaleClaims(keys, groups, counter))) continue;
        throw invalidRequest({ path: "group", message: `cannot create "${group}": ${groups.length} groups exist and MAX_GROUPS is ${maxGroups}` });
      }
      const row: TransactionAction = ["create", { ...extra, ...toRowProperties(state), partitionKey: PARTITION_KEY, rowKey: group }];
      const count1 = { partitionKey: PARTITION_KEY, rowKey: COUNT_KEY, count: count + 1 };
      const claimAction: TransactionAction = claim
        ? ["update", { partitionKey: PARTITION_KEY, rowKey: claimKey, group }, "Replace", { etag: claim.etag }]
        : ["create", { partitionKey: PARTITION_KEY, rowKey: claimKey, group }];
      const countAction: TransactionAction = counter ? ["update", count1, "Replace", { etag: counter.etag }] : ["create", count1];
      const actions: TransactionAction[] = counted ? [row, claimAction] : [row, claimAction, countAction];
      try {
        await this.table.submitTransaction(actions);
        return true;
      } catch (err) {
        // Another init got there first (a row, a claim, the count changed): look again.
        const status = statusCodeOf(err);
        if (status !== 409 && status !== 412) throw storageError(`creating group "${group}"`, this.table, err);
      }
    }
    throw new FailoverError("conflict", `Group "${group}": the group registry kept changing under 8 attempts; nothing was created`);
  }

  private async registryEntity(rowKey: string): Promise<TableEntityResult<Record<string, unknown>> | undefined> {
    try {
      return await this.table.getEntity<Record<string, unknown>>(PARTITION_KEY, rowKey);
    } catch (err) {
      if (statusCodeOf(err) === 404) return undefined;
      throw storageError("reading the group registry", this.table, err);
    }
  }

  private async rowExists(group: string): Promise<boolean> {
    return (await this.registryEntity(group)) !== undefined;
  }

  /**
   * The claims of rows deleted by hand (each confirmed gone by its own read) dropped, and the
   * count lowered by as many, in one transaction on the count's ETag. Answers whether any was.
   */
  private async dropStaleClaims(keys: readonly string[], groups: readonly string[], counter: TableEntityResult<Record<string, unknown>>): Promise<boolean> {
    const live = new Set(groups.map(claimKeyOf));
    const candidates = keys.filter((k) => k.startsWith(CLAIM_PREFIX) && !live.has(k)).slice(0, 50);
    const stale: TableEntityResult<Record<string, unknown>>[] = [];
    for (const key of candidates) {
      const claim = await this.registryEntity(key);
      // An emptied claim was dropped from the count already.
      if (claim && claim.group !== "" && !(await this.rowExists(String(claim.group)))) stale.push(claim);
    }
    if (stale.length === 0) return false;
    const count = Math.max(0, Number(counter.count) - stale.length);
    // Each stale claim is emptied on its ETag (a transaction deletes unconditionally), the count lowered on its own.
    const actions: TransactionAction[] = [
      ...stale.map((c): TransactionAction => ["update", { partitionKey: PARTITION_KEY, rowKey: c.rowKey!, group: "" }, "Replace", { etag: c.etag }]),
      ["update", { partitionKey: PARTITION_KEY, rowKey: COUNT_KEY, count }, "Replace", { etag: counter.etag }],
    ];
    // A race (the count or a claim changed): the caller looks again either way.
    await this.table.submitTransaction(actions).catch(() => undefined);
    return true;
  }
}

function caseTwin(group: string, existing: string): FailoverError {
  return invalidRequest({ path: "group", message: `"${group}" differs only in case from the existing group "${existing}"; group names are unique regardless of case` });
}

function claimKeyOf(group: string): string {
  return `${CLAIM_PREFIX}${group.toLowerCase()}`;
}

/** RowKeys of the group registry start with "!", which no group name can (see groupNameSchema). */
const REGISTRY_PREFIX = "!";
const COUNT_KEY = `${REGISTRY_PREFIX}count`;
const CLAIM_PREFIX = `${REGISTRY_PREFIX}name:`;
