import { permissionsGrant, type ArmPermission } from "./armActions";
import type { SwitchClients } from "./clients";
import type { StepCalls } from "./session";
import { roleForAction } from "./stepErrors";

export interface ResourceScope {
  readonly subscription: string;
  readonly resourceGroup: string;
  readonly namespace: string;
  /** Parent path inside the provider, e.g. "dnszones/contoso.com"; empty for a top-level resource. */
  readonly parentPath: string;
  readonly type: string;
  readonly name: string;
}

export function scopeId(s: ResourceScope): string {
  return `/subscriptions/${s.subscription}/resourceGroups/${s.resourceGroup}/providers/${s.namespace}/${s.parentPath ? `${s.parentPath}/` : ""}${s.type}/${s.name}`;
}

const PERMISSIONS_API = "api-version=2022-04-01";
const MAX_PAGES = 10;

/**
 * Asks ARM which actions the app's identity holds on a scope (the permissions API, read-only)
 * and names every needed action it lacks, with the role that grants it. The request goes to
 * `{scope}/providers/Microsoft.Authorization/permissions` on the resource's own ID, so a
 * top-level resource has no empty parent segment in its path. When the permissions API itself
 * refuses, the problem still names the role to grant (every built-in role the steps need also
 * grants Microsoft.Authorization/\*\/read, which this check uses).
 */
export async function missingPermissions(clients: SwitchClients, calls: StepCalls, scope: ResourceScope, actions: readonly string[]): Promise<string[]> {
  const id = scopeId(scope);
  const permissions: ArmPermission[] = [];
  let next: string | undefined = `${id}/providers/Microsoft.Authorization/permissions?${PERMISSIONS_API}`;
  try {
    for (let page = 0; next && page < MAX_PAGES; page++) {
      const path: string = next;
      const body = (await calls.read("permissions", (signal) => clients.armGet(path, signal))) as { value?: ArmPermission[]; nextLink?: string } | undefined;
      permissions.push(...(body?.value ?? []));
      next = body?.nextLink?.startsWith(clients.settings.armEndpoint) ? body.nextLink.slice(clients.settings.armEndpoint.length) : undefined;
    }
  } catch (err) {
    const role = actions.map(roleForAction).find((r) => r !== undefined);
    const fix = role ? `: grant ${role} on ${id} (it also lets the app read its own permissions there)` : "";
    return [`cannot read permissions on ${id}: ${(err as Error).message.replace(`${calls.label}: permissions: `, "")}${fix}`];
  }
  return actions.filter((action) => !permissionsGrant(permissions, action)).map((action) => `missing action ${action} on ${id}${roleForAction(action) ? `: grant ${roleForAction(action)}` : ""}`);
}
