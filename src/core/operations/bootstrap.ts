import { endpointIssues } from "../egress";
import type { FailoverDeps } from "../deps";
import { FailoverError, invalidRequest, isFailoverError } from "../errors";
import { initialState, type FailoverState } from "../state";

export interface BootstrapRequest {
  readonly group: string;
  readonly primary_endpoint?: string;
  readonly secondary_endpoint?: string;
  /** The regions the endpoints run in (the default group's come from PRIMARY_REGION and SECONDARY_REGION). */
  readonly primary_region?: string;
  readonly secondary_region?: string;
  /** Validated policy overrides to store on the new row. */
  readonly overrides?: Readonly<Record<string, unknown>>;
}

/** Creates the tables and the group's row; an existing row is never overwritten. */
export async function bootstrap(deps: FailoverDeps, request: BootstrapRequest): Promise<{ created: boolean; state: FailoverState }> {
  const isDefault = request.group === deps.config.defaultGroup;
  const primary = request.primary_endpoint ?? (isDefault ? deps.config.primaryEndpoint : undefined);
  const secondary = request.secondary_endpoint ?? (isDefault ? deps.config.secondaryEndpoint : undefined);
  await Promise.all([deps.store.ensureTable(), deps.audit.ensureTable()]);
  if (primary === undefined || secondary === undefined) {
    try {
      return { created: false, state: (await deps.store.load(request.group)).state };
    } catch (err) {
      if (!isFailoverError(err, "state_not_found")) throw err;
    }
    const missing = isDefault ? "PRIMARY_ENDPOINT and SECONDARY_ENDPOINT settings" : "primary_endpoint and secondary_endpoint";
    throw new FailoverError("invalid_request", `Cannot create group "${request.group}": the ${missing} are needed to create its row`);
  }
  // Look before creating: on the watchdog's happy path the row exists, and a create that fails
  // with 409 is a billed request for nothing.
  try {
    return { created: false, state: (await deps.store.load(request.group)).state };
  } catch (err) {
    if (!isFailoverError(err, "state_not_found")) throw err;
  }
  const issues = endpointIssues({ primary_endpoint: primary, secondary_endpoint: secondary }, deps.config.egress);
  if (issues.length > 0) throw invalidRequest(...issues);
  const primaryRegion = request.primary_region ?? (isDefault ? deps.config.primaryRegion : undefined);
  const secondaryRegion = request.secondary_region ?? (isDefault ? deps.config.secondaryRegion : undefined);
  const state: FailoverState = {
    ...initialState(primary, secondary),
    ...(primaryRegion ? { primary_region: primaryRegion } : {}),
    ...(secondaryRegion ? { secondary_region: secondaryRegion } : {}),
  };
  const created = await deps.store.createGroup(request.group, state, request.overrides ?? {}, deps.config.limits.maxGroups);
  return { created, state: created ? state : (await deps.store.load(request.group)).state };
}
