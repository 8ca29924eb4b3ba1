import { actionMatches } from "../../../core/switch/armActions";

/**
 * The built-in Azure roles the switch steps need, with the actions and data actions of their
 * published definitions that matter here, and the check ARM makes: does any role assignment
 * whose scope contains the resource grant the action?
 */

export interface RoleDefinition {
  readonly name: string;
  readonly actions: readonly string[];
  readonly dataActions: readonly string[];
}

/**
 * A custom role as someone might write one: it reads and writes Traffic Manager endpoints but
 * lacks Microsoft.Authorization/\*\/read, so the permissions API itself refuses the app (403).
 */
export const CUSTOM_ENDPOINT_WRITER = "00000000-0000-0000-0000-00000000e0e0";

export const ROLES: Readonly<Record<string, RoleDefinition>> = {
  [CUSTOM_ENDPOINT_WRITER]: {
    name: "Endpoint writer (custom)",
    actions: ["Microsoft.Network/trafficManagerProfiles/read", "Microsoft.Network/trafficManagerProfiles/*/read", "Microsoft.Network/trafficManagerProfiles/*/write"],
    dataActions: [],
  },
  "a4b10055-b0c7-44c2-b00f-c7b5b3550cf7": {
    name: "Traffic Manager Contributor",
    actions: ["Microsoft.Authorization/*/read", "Microsoft.Network/trafficManagerProfiles/*", "Microsoft.Resources/subscriptions/resourceGroups/read"],
    dataActions: [],
  },
  "ec156ff8-a8d1-4d15-830c-5b80698ca432": {
    name: "CDN Profile Contributor",
    actions: [
      "Microsoft.Authorization/*/read",
      "Microsoft.Cdn/edgenodes/read",
      "Microsoft.Cdn/operationresults/*",
      "Microsoft.Cdn/profiles/*",
      "Microsoft.Resources/subscriptions/resourceGroups/read",
    ],
    dataActions: [],
  },
  "befefa01-2a29-4197-83a8-272ff33ce314": {
    name: "DNS Zone Contributor",
    actions: ["Microsoft.Authorization/*/read", "Microsoft.Network/dnsZones/*", "Microsoft.Resources/subscriptions/resourceGroups/read"],
    dataActions: [],
  },
  "5ae67dd6-50cb-40e7-96ff-dc2bfa4b606b": {
    name: "App Configuration Data Owner",
    actions: [],
    dataActions: [
      "Microsoft.AppConfiguration/configurationStores/*/read",
      "Microsoft.AppConfiguration/configurationStores/*/write",
      "Microsoft.AppConfiguration/configurationStores/*/delete",
      "Microsoft.AppConfiguration/configurationStores/*/action",
    ],
  },
  "6d8ee4ec-f05a-4a1d-8b00-a9b17e38b437": {
    name: "SQL Server Contributor",
    actions: ["Microsoft.Authorization/*/read", "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Sql/locations/*/read", "Microsoft.Sql/servers/*"],
    dataActions: [],
  },
  "5bd9cd88-fe45-4216-938b-f97437e15450": {
    name: "DocumentDB Account Contributor",
    actions: ["Microsoft.Authorization/*/read", "Microsoft.DocumentDB/databaseAccounts/*", "Microsoft.DocumentDB/locations/*/read", "Microsoft.Resources/subscriptions/resourceGroups/read"],
    dataActions: [],
  },
  "17d1049b-9a84-46fb-8f53-869881c3d3ab": {
    name: "Storage Account Contributor",
    actions: [
      "Microsoft.Authorization/*/read",
      "Microsoft.Insights/diagnosticSettings/*",
      "Microsoft.Network/virtualNetworks/subnets/joinViaServiceEndpoint/action",
      "Microsoft.Resources/subscriptions/resourceGroups/read",
      "Microsoft.Storage/storageAccounts/*",
    ],
    dataActions: [],
  },
  "acdd72a7-3385-48ef-bd42-f606fba81ae7": { name: "Reader", actions: ["*/read"], dataActions: [] },
};

export interface RoleAssignment {
  readonly roleDefinitionId: string;
  readonly scope: string;
}

/** True when `scope` is `resourceId` or one of its parents (ARM compares case-insensitively). */
export function scopeContains(scope: string, resourceId: string): boolean {
  const a = scope.toLowerCase().replace(/\/+$/, "");
  const b = resourceId.toLowerCase();
  return a === "" || a === "/" || b === a || b.startsWith(`${a}/`);
}

export function assignmentsGrant(assignments: readonly RoleAssignment[], resourceId: string, action: string, data: boolean): boolean {
  return assignments.some((assignment) => {
    const role = ROLES[assignment.roleDefinitionId];
    if (!role || !scopeContains(assignment.scope, resourceId)) return false;
    return (data ? role.dataActions : role.actions).some((pattern) => actionMatches(pattern, action));
  });
}
