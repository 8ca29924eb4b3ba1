import Module from "node:module";

/**
 * The local host's stand-in for `@azure/functions-core`, the module the Azure Functions Node
 * worker hands to `@azure/functions`. Through it `app.http(...)`, `df.app.orchestration(...)`
 * and the others register exactly what they would register in Azure: the function metadata
 * (bindings, route, schedule) and the handler. The local host then invokes those handlers.
 *
 * Under jest the module is mapped in jest.config.js; under plain node `installFunctionsCore`
 * resolves the name to this module, as the worker does.
 */

export interface BindingMetadata {
  readonly type: string;
  readonly direction: "in" | "out";
  readonly name?: string;
  readonly [key: string]: unknown;
}

export interface FunctionMetadata {
  readonly name: string;
  readonly bindings: Readonly<Record<string, BindingMetadata>>;
}

export type RegisteredHandler = (triggerInput: unknown, context: unknown) => unknown;

export interface Registration {
  readonly metadata: FunctionMetadata;
  readonly handler: RegisteredHandler;
}

const registrations = new Map<string, Registration>();

export function registerFunction(metadata: FunctionMetadata, handler: RegisteredHandler): { dispose(): void } {
  if (registrations.has(metadata.name)) throw new Error(`A function named "${metadata.name}" is already registered`);
  registrations.set(metadata.name, { metadata, handler });
  return { dispose: () => void registrations.delete(metadata.name) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- mirrors @azure/functions' hook callbacks, whose context differs per hook
export type HookCallback = (context: any) => unknown;

interface ProgrammingModel {
  getCapabilities(capabilities: Record<string, string>): Promise<Record<string, string>>;
}

let programmingModel: ProgrammingModel | undefined;
const hooks = new Map<string, Set<HookCallback>>();

export function setProgrammingModel(model: ProgrammingModel): void {
  programmingModel = model;
}

/** Kept as the worker keeps them, so a test can run them; the local host itself runs none. */
export function registerHook(name: string, callback: HookCallback): { dispose(): void } {
  const set = hooks.get(name) ?? new Set<HookCallback>();
  hooks.set(name, set);
  set.add(callback);
  return { dispose: () => void set.delete(callback) };
}

export function registeredHooks(name: string): HookCallback[] {
  return [...(hooks.get(name) ?? [])];
}

/** What the worker would report to the host at startup (`app.setup({ capabilities })` included). */
export async function workerCapabilities(): Promise<Record<string, string>> {
  return programmingModel ? programmingModel.getCapabilities({}) : {};
}

export function log(level: string, _category: string, message: string): void {
  if (level === "error" || level === "warning") console.error(`[functions ${level}] ${message}`);
}

export function registeredFunctions(): ReadonlyMap<string, Registration> {
  return registrations;
}

export function triggerOf(registration: Registration): BindingMetadata {
  const trigger = Object.values(registration.metadata.bindings).find((b) => b.direction === "in" && b.type.endsWith("Trigger"));
  if (!trigger) throw new Error(`Function "${registration.metadata.name}" has no trigger binding`);
  return trigger;
}

let installed = false;

/** Makes `require("@azure/functions-core")` return this module under plain node. */
export function installFunctionsCore(): void {
  if (installed) return;
  installed = true;
  const loader = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
  const original = loader._load;
  const self = module.exports as unknown;
  loader._load = function load(request: string, parent: unknown, isMain: boolean) {
    return request === "@azure/functions-core" ? self : original.call(this, request, parent, isMain);
  };
}
