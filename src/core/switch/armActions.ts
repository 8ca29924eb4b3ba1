/**
 * ARM permission arithmetic: does a list of permissions (as ARM's permissions API returns them
 * for a scope) grant an action? `*` in a pattern matches any run of characters; comparison is
 * case-insensitive; a matching notActions entry takes the action away again.
 */

export interface ArmPermission {
  readonly actions?: readonly string[];
  readonly notActions?: readonly string[];
  readonly dataActions?: readonly string[];
  readonly notDataActions?: readonly string[];
}

export function actionMatches(pattern: string, action: string): boolean {
  const source = pattern
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${source}$`, "i").test(action);
}

export function permissionsGrant(permissions: readonly ArmPermission[], action: string, data = false): boolean {
  return permissions.some((p) => {
    const allow = (data ? p.dataActions : p.actions) ?? [];
    const deny = (data ? p.notDataActions : p.notActions) ?? [];
    return allow.some((a) => actionMatches(a, action)) && !deny.some((a) => actionMatches(a, action));
  });
}
