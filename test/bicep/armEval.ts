import type { Json } from "./arm";

/**
 * A small evaluator of ARM template expressions, enough to expand a compiled template the way
 * Azure Resource Manager would for given parameter values: conditions, copy loops, nested module
 * deployments at their own scope, user-defined functions and lambdas, and the functions Bicep
 * emits for them. `if` evaluates only the branch taken, as ARM does (so `fail()` in the other
 * branch stays silent); `and`/`or` evaluate every argument. A function it does not know is an
 * error, never a guess.
 */

type Value = Json;

/** Where a template is deployed: a resource group of a subscription. */
export interface At {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  /** resourceGroup().location; swedencentral when not given. */
  readonly location?: string;
  /** tenant().tenantId; DEFAULT_TENANT_ID when not given. */
  readonly tenantId?: string;
}

/** The directory the deployment runs in when At does not name one. */
export const DEFAULT_TENANT_ID = "00000000-0000-0000-0000-0000000a7e11";

/** What `environment()` answers: the public cloud unless a test says otherwise. */
export const PUBLIC_CLOUD_ENVIRONMENT = {
  name: "AzureCloud",
  authentication: { loginEndpoint: "https://login.microsoftonline.com/", audiences: ["https://management.core.windows.net/", "https://management.azure.com/"] },
  resourceManager: "https://management.azure.com/",
};

export interface Options {
  /**
   * The deployment's resource group. Without it, resourceId() answers a readable placeholder
   * (/resourceId/<type>/<name>) and subscription()/resourceGroup() are errors.
   */
  readonly at?: At;
  readonly environment?: Json;
}

interface UserFunction {
  readonly parameters: { name: string }[];
  readonly output: { value: Value };
}

interface Scope {
  readonly parameters: Record<string, Value>;
  readonly variables: Record<string, Value>;
  readonly copyIndex?: number;
  /** Indexes of the property copy loops being expanded, by name: copyIndex('name'). */
  readonly named?: Readonly<Record<string, number>>;
  /** Lambda variables in scope: lambdaVariables('name'). */
  readonly lambda?: Readonly<Record<string, Value>>;
  /** User-defined functions, by "namespace.name". */
  readonly functions?: Readonly<Record<string, UserFunction>>;
  readonly options?: Options;
}

type Node =
  | { readonly k: "literal"; readonly v: Value }
  | { readonly k: "call"; readonly name: string; readonly args: readonly Node[] }
  | { readonly k: "property"; readonly of: Node; readonly name: string }
  | { readonly k: "index"; readonly of: Node; readonly index: Node };

interface Closure {
  readonly lambdaParameters: readonly string[];
  readonly body: Node;
  readonly scope: Scope;
}

function at(scope: Scope, what: string): At {
  const where = scope.options?.at;
  if (!where) throw new Error(`${what} needs the deployment's resource group (options.at)`);
  return where;
}

/** resourceId([subscriptionId], [resourceGroup], type, name1, name2, ...) */
function resourceId(args: Value[], scope: Scope): string {
  const typeIndex = args.findIndex((a) => typeof a === "string" && a.includes("/"));
  const [namespace, ...types] = String(args[typeIndex]).split("/");
  const names = args.slice(typeIndex + 1).map(String);
  if (names.length !== types.length) throw new Error(`resourceId(${args.join(", ")}): ${types.length} type segments, ${names.length} names`);
  if (!scope.options?.at && typeIndex === 0) return `/resourceId/${args.join("/")}`;
  const prefix = args.slice(0, typeIndex).map(String);
  const where = at(scope, "resourceId()");
  const subscriptionId = prefix.length === 2 ? prefix[0] : where.subscriptionId;
  const resourceGroup = prefix.length >= 1 ? prefix.at(-1) : where.resourceGroup;
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/${namespace}${types.map((t, i) => `/${t}/${names[i]}`).join("")}`;
}

function call(closure: Closure, args: Value[]): Value {
  const lambda = { ...closure.scope.lambda, ...Object.fromEntries(closure.lambdaParameters.map((p, i) => [p, args[i]])) };
  return run(closure.body, { ...closure.scope, lambda });
}

const FUNCTIONS: Record<string, (args: Value[], scope: Scope) => Value> = {
  parameters: ([name], scope) => {
    if (!(name in scope.parameters)) throw new Error(`parameter '${name}' has no value`);
    return scope.parameters[name];
  },
  variables: ([name], scope) => {
    if (!(name in scope.variables)) throw new Error(`variable '${name}' is not declared`);
    return scope.variables[name];
  },
  copyIndex: ([name], scope) => {
    const index = name === undefined ? scope.copyIndex : scope.named?.[name];
    if (index === undefined) throw new Error(`copyIndex(${name ?? ""}) outside its copy loop`);
    return index;
  },
  lambdaVariables: ([name], scope) => {
    if (!scope.lambda || !(name in scope.lambda)) throw new Error(`lambdaVariables('${name}') outside its lambda`);
    return scope.lambda[name];
  },
  empty: ([v]) => v === null || v === undefined || v === "" || (Array.isArray(v) ? v.length === 0 : typeof v === "object" && Object.keys(v).length === 0),
  not: ([v]) => !v,
  or: (args) => args.some(Boolean),
  and: (args) => args.every(Boolean),
  equals: ([a, b]) => JSON.stringify(a) === JSON.stringify(b),
  true: () => true,
  false: () => false,
  length: ([v]) => (typeof v === "string" || Array.isArray(v) ? v.length : Object.keys(v).length),
  createArray: (args) => args,
  createObject: (args) => Object.fromEntries(Array.from({ length: args.length / 2 }, (_, i) => [args[2 * i], args[2 * i + 1]])),
  concat: (args) => (args.every(Array.isArray) ? args.flat() : args.join("")),
  format: ([f, ...args]) => String(f).replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i)])),
  toLower: ([v]) => String(v).toLowerCase(),
  toUpper: ([v]) => String(v).toUpperCase(),
  split: ([v, separator]) => String(v).split(String(separator)),
  replace: ([v, oldText, newText]) => String(v).split(String(oldText)).join(String(newText)),
  join: ([values, separator]) => (values as Value[]).join(String(separator)),
  contains: ([container, item]) =>
    typeof container === "string"
      ? container.includes(String(item))
      : Array.isArray(container)
        ? container.some((c) => JSON.stringify(c) === JSON.stringify(item))
        : Object.keys(container).some((k) => k.toLowerCase() === String(item).toLowerCase()),
  substring: ([v, start, length]) => {
    const text = String(v);
    const end = length === undefined ? text.length : start + length;
    if (start < 0 || end > text.length || length < 0) throw new Error(`substring('${text}', ${start}, ${length}): out of range`);
    return text.slice(start, end);
  },
  range: ([start, count]) => Array.from({ length: count }, (_, i) => start + i),
  greater: ([a, b]) => a > b,
  less: ([a, b]) => a < b,
  greaterOrEquals: ([a, b]) => a >= b,
  lessOrEquals: ([a, b]) => a <= b,
  string: ([v]) => (typeof v === "string" ? v : JSON.stringify(v)),
  union: (args) => (args.every(Array.isArray) ? [...new Set(args.flat().map((v) => JSON.stringify(v)))].map((v) => JSON.parse(v)) : Object.assign({}, ...args)),
  // A readable stand-in for the hash: the tests compare what it is made of.
  uniqueString: (args) => `unique(${args.join(",")})`,
  add: ([a, b]) => a + b,
  sub: ([a, b]) => a - b,
  filter: ([values, closure]) => (values as Value[]).filter((v, i) => call(closure, [v, i])),
  map: ([values, closure]) => (values as Value[]).map((v, i) => call(closure, [v, i])),
  fail: ([message]) => {
    throw new Error(`fail(): ${message}`);
  },
  // Readable stand-ins for values only Azure knows; the tests compare what they are made of.
  guid: (args) => `guid(${args.join(", ")})`,
  // A deployed resource's property reads as a readable placeholder; so does a module's output (reference(m).outputs.x.value).
  reference: ([target]) =>
    new Proxy({}, { get: (_, property) => (property === "outputs" ? new Proxy({}, { get: (__, output) => ({ value: `reference(${String(target)}).outputs.${String(output)}` }) }) : `reference(${String(target)}).${String(property)}`) }),
  resourceId: (args, scope) => resourceId(args, scope),
  subscriptionResourceId: ([type, ...names], scope) => {
    const [namespace, ...types] = String(type).split("/");
    return `/subscriptions/${at(scope, "subscriptionResourceId()").subscriptionId}/providers/${namespace}${types.map((t, i) => `/${t}/${names[i]}`).join("")}`;
  },
  subscription: (_, scope) => ({ subscriptionId: at(scope, "subscription()").subscriptionId, id: `/subscriptions/${at(scope, "subscription()").subscriptionId}` }),
  resourceGroup: (_, scope) => {
    const where = at(scope, "resourceGroup()");
    return { name: where.resourceGroup, id: `/subscriptions/${where.subscriptionId}/resourceGroups/${where.resourceGroup}`, location: where.location ?? "swedencentral" };
  },
  environment: (_, scope) => scope.options?.environment ?? PUBLIC_CLOUD_ENVIRONMENT,
  tenant: (_, scope) => ({ tenantId: at(scope, "tenant()").tenantId ?? DEFAULT_TENANT_ID }),
};

class Parser {
  private i = 0;
  constructor(private readonly text: string) {}

  parse(): Node {
    const node = this.expression();
    this.skip();
    if (this.i !== this.text.length) throw new Error(`unexpected '${this.text.slice(this.i)}' in [${this.text}]`);
    return node;
  }

  private skip(): void {
    while (/\s/.test(this.text[this.i] ?? "")) this.i++;
  }

  private identifier(): string {
    const name = /^[A-Za-z_$][\w$]*/.exec(this.text.slice(this.i));
    if (!name) throw new Error(`expected a name at '${this.text.slice(this.i)}' in [${this.text}]`);
    this.i += name[0].length;
    return name[0];
  }

  private expression(): Node {
    this.skip();
    let node = this.primary();
    for (;;) {
      this.skip();
      const c = this.text[this.i];
      if (c === ".") {
        this.i++;
        node = { k: "property", of: node, name: this.identifier() };
      } else if (c === "[") {
        this.i++;
        const index = this.expression();
        this.skip();
        if (this.text[this.i++] !== "]") throw new Error(`expected ] in [${this.text}]`);
        node = { k: "index", of: node, index };
      } else {
        return node;
      }
    }
  }

  private primary(): Node {
    const rest = this.text.slice(this.i);
    if (rest.startsWith("'")) {
      let out = "";
      this.i++;
      for (;;) {
        const c = this.text[this.i++];
        if (c === undefined) throw new Error(`unterminated string in [${this.text}]`);
        if (c === "'") {
          if (this.text[this.i] !== "'") return { k: "literal", v: out };
          out += "'";
          this.i++;
        } else {
          out += c;
        }
      }
    }
    const number = /^-?\d+/.exec(rest);
    if (number) {
      this.i += number[0].length;
      return { k: "literal", v: Number(number[0]) };
    }
    let name = this.identifier();
    // A user-defined function: namespace.name(...)
    if (this.text[this.i] === "." && /^\.[A-Za-z_$][\w$]*\(/.test(this.text.slice(this.i))) {
      this.i++;
      name = `${name}.${this.identifier()}`;
    }
    this.skip();
    if (this.text[this.i] !== "(") throw new Error(`'${name}' is not a function call in [${this.text}]`);
    this.i++;
    const args: Node[] = [];
    this.skip();
    if (this.text[this.i] === ")") this.i++;
    else {
      for (;;) {
        args.push(this.expression());
        this.skip();
        const c = this.text[this.i++];
        if (c === ")") break;
        if (c !== ",") throw new Error(`expected , or ) in [${this.text}]`);
      }
    }
    return { k: "call", name, args };
  }
}

function run(node: Node, scope: Scope): Value {
  switch (node.k) {
    case "literal":
      return node.v;
    case "property":
      return run(node.of, scope)?.[node.name];
    case "index": {
      const of = run(node.of, scope);
      const index = run(node.index, scope);
      if (Array.isArray(of) && (typeof index !== "number" || index < 0 || index >= of.length)) {
        throw new Error(`index ${index} out of range of an array of ${of.length}`);
      }
      return of?.[index];
    }
    case "call": {
      const { name, args } = node;
      // Special forms: their arguments are not all evaluated first.
      if (name === "if") return run(run(args[0], scope) ? args[1] : args[2], scope);
      if (name === "lambda") {
        const lambdaParameters = args.slice(0, -1).map((a) => String(run(a, scope)));
        return { lambdaParameters, body: args.at(-1)!, scope } satisfies Closure;
      }
      const values = args.map((a) => run(a, scope));
      const user = scope.functions?.[name];
      if (user) {
        const parameters = Object.fromEntries(user.parameters.map((p, i) => [p.name, values[i]]));
        return evaluate(user.output.value, { parameters, variables: {}, functions: scope.functions, ...(scope.options ? { options: scope.options } : {}) });
      }
      const fn = FUNCTIONS[name];
      if (!fn) throw new Error(`the evaluator does not know ${name}()`);
      return fn(values, scope);
    }
  }
}

function parse(expression: string): Node {
  if (!expression.startsWith("[") || !expression.endsWith("]")) return { k: "literal", v: expression };
  return new Parser(expression.slice(1, -1)).parse();
}

/** Evaluates every "[...]" string inside `value` (deeply). */
export function evaluate(value: Value, scope: Scope): Value {
  if (typeof value === "string") {
    if (value.startsWith("[[")) return value.slice(1);
    if (value.startsWith("[") && value.endsWith("]")) {
      try {
        return run(parse(value), scope);
      } catch (error) {
        // fail() carries the template's own message: keep it as it is.
        if (error instanceof Error && error.message.startsWith("fail(): ")) throw error;
        throw new Error(`${(error as Error).message} (in ${value})`, { cause: error });
      }
    }
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => evaluate(v, scope));
  if (value && typeof value === "object") {
    const { copy, ...rest } = value as Record<string, Value>;
    const out: Record<string, Value> = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, evaluate(v, scope)]));
    // Property copy loops: [{ name, count, input }] -> out[name] = [input for each index].
    for (const loop of Array.isArray(copy) ? copy : []) {
      const count = evaluate(loop.count, scope) as number;
      out[loop.name] = Array.from({ length: count }, (_, i) => evaluate(loop.input, { ...scope, named: { ...scope.named, [loop.name]: i } }));
    }
    return out;
  }
  return value;
}

/** The template's user-defined functions, by "namespace.name". */
function functionsOf(template: Json): Record<string, UserFunction> {
  const out: Record<string, UserFunction> = {};
  for (const ns of template.functions ?? []) {
    for (const [name, fn] of Object.entries<UserFunction>(ns.members ?? {})) out[`${ns.namespace}.${name}`] = fn;
  }
  return out;
}

function baseScope(template: Json, options: Options): Pick<Scope, "functions" | "options"> {
  return { functions: functionsOf(template), options };
}

/** Parameter values: the given ones, else each parameter's default (evaluated). */
export function parameterValues(template: Json, given: Record<string, Value>, options: Options = {}): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const [name, p] of Object.entries<Json>(template.parameters ?? {})) {
    if (name in given) out[name] = given[name];
    else if ("defaultValue" in p) out[name] = evaluate(p.defaultValue, { parameters: out, variables: {}, ...baseScope(template, options) });
  }
  return out;
}

/** Variables in declaration order (a variable may use the ones before it). */
export function variableValues(template: Json, parameters: Record<string, Value>, options: Options = {}): Record<string, Value> {
  const variables: Record<string, Value> = {};
  for (const [name, v] of Object.entries<Json>(template.variables ?? {})) variables[name] = evaluate(v, { parameters, variables, ...baseScope(template, options) });
  return variables;
}

export interface Expanded {
  readonly symbol: string;
  readonly type: string;
  readonly name: string;
  readonly resource: Json;
  /** Where it is deployed (when the expansion was given options.at). */
  readonly at?: At;
  /** A module deployment's own resources, expanded at the module's scope. */
  readonly deployed?: readonly Expanded[];
}

function entries(resources: Json): [string, Json][] {
  if (Array.isArray(resources)) return resources.map((r, i) => [String(i), r]);
  return Object.entries(resources ?? {});
}

/**
 * The resources a template creates for these parameter values: conditions applied, copy loops
 * expanded, every expression evaluated (`existing` references left out). A module deployment
 * (Microsoft.Resources/deployments with an inline template) is expanded too, with the parameter
 * values it passes, at its own subscription and resource group: see `deployed`.
 */
export function expand(template: Json, given: Record<string, Value>, options: Options = {}): Expanded[] {
  const parameters = parameterValues(template, given, options);
  const variables = variableValues(template, parameters, options);
  const out: Expanded[] = [];
  for (const [symbol, resource] of entries(template.resources)) {
    if (resource.existing === true) continue;
    const count = resource.copy ? evaluate(resource.copy.count, { parameters, variables, ...baseScope(template, options) }) : 1;
    for (let i = 0; i < count; i++) {
      const scope: Scope = { parameters, variables, ...baseScope(template, options), ...(resource.copy ? { copyIndex: i } : {}) };
      if (resource.condition !== undefined && !evaluate(resource.condition, scope)) continue;
      const { copy: _copy, condition: _condition, dependsOn: _dependsOn, ...rest } = resource;
      const nested: Json = rest.type === "Microsoft.Resources/deployments" ? rest.properties?.template : undefined;
      const evaluated = evaluate(nested ? { ...rest, properties: { ...rest.properties, template: undefined } } : rest, scope);
      const here = options.at ? { at: options.at } : {};
      if (!nested) {
        out.push({ symbol, type: evaluated.type, name: evaluated.name, resource: evaluated, ...here });
        continue;
      }
      const moduleAt =
        options.at || evaluated.subscriptionId || evaluated.resourceGroup
          ? {
              subscriptionId: evaluated.subscriptionId ?? options.at?.subscriptionId,
              resourceGroup: evaluated.resourceGroup ?? options.at?.resourceGroup,
              // A module runs in the deployment's directory.
              ...(options.at?.tenantId ? { tenantId: options.at.tenantId } : {}),
            }
          : undefined;
      const passed = Object.fromEntries(Object.entries<Json>(evaluated.properties?.parameters ?? {}).map(([k, v]) => [k, v.value]));
      const deployed = expand(nested, passed, { ...options, ...(moduleAt ? { at: moduleAt } : {}) });
      out.push({ symbol, type: evaluated.type, name: evaluated.name, resource: evaluated, ...here, deployed });
    }
  }
  return out;
}

/** Every resource of an expansion, module deployments' own resources included (depth first). */
export function flatten(resources: readonly Expanded[]): Expanded[] {
  return resources.flatMap((r) => [r, ...flatten(r.deployed ?? [])]);
}
