import { permissionsGrant, type ArmPermission } from "./armActions";
import type { SwitchClients } from "./clients";
import { roleForAction, toStepError } from "./stepErrors";

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

/**
 * Asks ARM which actions the app's identity holds on a scope (the permissions API, read-only)
 * and names every needed action it lacks, with the role that grants it.
 */
export async function missingPermissions(clients: SwitchClients, scope: ResourceScope, actions: readonly string[]): Promise<string[]> {
  const permissions: ArmPermission[] = [];
  try {
    for await (const p of clients.authorization(scope.subscription).permissions.listForResource(scope.resourceGroup, scope.namespace, scope.parentPath, scope.type, scope.name)) {
      permissions.push(p);
    }
  } catch (err) {
    return [`cannot read permissions on ${scopeId(scope)}: ${toStepError(err, "permissions", Date.now()).message}`];
  }
  return actions
    .filter((action) => !permissionsGrant(permissions, action))
    .map((action) => `missing action ${action} on ${scopeId(scope)}${roleForAction(action) ? `: grant ${roleForAction(action)}` : ""}`);
}
