import type { Json } from "./arm";

/**
 * A small evaluator of ARM template expressions, enough to expand a compiled module the way
 * Azure Resource Manager would for given parameter values: conditions, copy loops and the
 * functions Bicep emits for them. A function it does not know is an error, never a guess.
 */

type Value = Json;

interface Scope {
  readonly parameters: Record<string, Value>;
  readonly variables: Record<string, Value>;
  readonly copyIndex?: number;
  /** Indexes of the property copy loops being expanded, by name: copyIndex('name'). */
  readonly named?: Readonly<Record<string, number>>;
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
  if: ([c, a, b]) => (c ? a : b),
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
  resourceId: (args) => `/resourceId/${args.join("/")}`,
  toLower: ([v]) => String(v).toLowerCase(),
};

class Parser {
  private i = 0;
  constructor(
    private readonly text: string,
    private readonly scope: Scope,
  ) {}

  parse(): Value {
    const value = this.expression();
    this.skip();
    if (this.i !== this.text.length) throw new Error(`unexpected '${this.text.slice(this.i)}' in [${this.text}]`);
    return value;
  }

  private skip(): void {
    while (/\s/.test(this.text[this.i] ?? "")) this.i++;
  }

  private expression(): Value {
    this.skip();
    let value = this.primary();
    for (;;) {
      this.skip();
      const c = this.text[this.i];
      if (c === ".") {
        this.i++;
        const name = /^[A-Za-z_$][\w$]*/.exec(this.text.slice(this.i))![0];
        this.i += name.length;
        value = value?.[name];
      } else if (c === "[") {
        this.i++;
        const index = this.expression();
        this.skip();
        this.i++; // ]
        value = value?.[index];
      } else {
        return value;
      }
    }
  }

  private primary(): Value {
    const rest = this.text.slice(this.i);
    if (rest.startsWith("'")) {
      let out = "";
      this.i++;
      for (;;) {
        const c = this.text[this.i++];
        if (c === undefined) throw new Error(`unterminated string in [${this.text}]`);
        if (c === "'") {
          if (this.text[this.i] === "'") {
            out += "'";
            this.i++;
          } else {
            return out;
          }
        } else {
          out += c;
        }
      }
    }
    const number = /^-?\d+/.exec(rest);
    if (number) {
      this.i += number[0].length;
      return Number(number[0]);
    }
    const name = /^[A-Za-z_][\w]*/.exec(rest);
    if (!name) throw new Error(`cannot parse '${rest}' in [${this.text}]`);
    this.i += name[0].length;
    this.skip();
    if (this.text[this.i] !== "(") throw new Error(`'${name[0]}' is not a function call in [${this.text}]`);
    this.i++;
    const args: Value[] = [];
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
    const fn = FUNCTIONS[name[0]];
    if (!fn) throw new Error(`the evaluator does not know ${name[0]}() (in [${this.text}])`);
    return fn(args, this.scope);
  }
}

/** Evaluates every "[...]" string inside `value` (deeply). */
export function evaluate(value: Value, scope: Scope): Value {
  if (typeof value === "string") {
    if (value.startsWith("[[")) return value.slice(1);
    if (value.startsWith("[") && value.endsWith("]")) return new Parser(value.slice(1, -1), scope).parse();
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

/** Parameter values: the given ones, else each parameter's default (evaluated). */
export function parameterValues(template: Json, given: Record<string, Value>): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const [name, p] of Object.entries<Json>(template.parameters ?? {})) {
    if (name in given) out[name] = given[name];
    else if ("defaultValue" in p) out[name] = evaluate(p.defaultValue, { parameters: out, variables: {} });
  }
  return out;
}

/** Variables in declaration order (a variable may use the ones before it). */
export function variableValues(template: Json, parameters: Record<string, Value>): Record<string, Value> {
  const variables: Record<string, Value> = {};
  for (const [name, v] of Object.entries<Json>(template.variables ?? {})) variables[name] = evaluate(v, { parameters, variables });
  return variables;
}

export interface Expanded {
  readonly symbol: string;
  readonly type: string;
  readonly name: string;
  readonly resource: Json;
}

/**
 * The resources a template creates for these parameter values: conditions applied, copy loops
 * expanded, every expression evaluated (`existing` references left out).
 */
export function expand(template: Json, given: Record<string, Value>): Expanded[] {
  const parameters = parameterValues(template, given);
  const variables = variableValues(template, parameters);
  const out: Expanded[] = [];
  for (const [symbol, resource] of Object.entries<Json>(template.resources)) {
    if (resource.existing === true) continue;
    const count = resource.copy ? evaluate(resource.copy.count, { parameters, variables }) : 1;
    for (let i = 0; i < count; i++) {
      const scope = { parameters, variables, ...(resource.copy ? { copyIndex: i } : {}) };
      if (resource.condition !== undefined && !evaluate(resource.condition, scope)) continue;
      const { copy: _copy, condition: _condition, dependsOn: _dependsOn, ...rest } = resource;
      const evaluated = evaluate(rest, scope);
      out.push({ symbol, type: evaluated.type, name: evaluated.name, resource: evaluated });
    }
  }
  return out;
}
