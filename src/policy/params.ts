/**
 * Trigger parameters: every value in a bundle is a string (numbers, booleans and lists encoded as
 * Anchore encodes them). A parameter has a validator (what strings it accepts, described the way
 * Anchore's policy_spec describes it) and a parser (the typed value the trigger receives).
 */

export interface Validator<T> {
  /** Anchore's validator type name, as policy_spec reports it. */
  type: string;
  description: string;
  /** A JSON-schema fragment for the accepted strings. */
  criteria: Record<string, unknown>;
  /** Undefined when the string is acceptable, else what is wrong with it. */
  check(value: string): string | undefined;
  parse(value: string): T;
}

export interface ParamSpec<T = unknown, R extends boolean = boolean> {
  name: string;
  description: string;
  example?: string;
  required: R;
  /** Older names still accepted in bundles. */
  aliases: string[];
  validator: Validator<T>;
}

export type ParamMap = Record<string, ParamSpec<any, boolean>>;

/** The typed values a trigger receives: required parameters are always present. */
export type ParamValues<P extends ParamMap> = {
  [K in keyof P]: P[K] extends ParamSpec<infer T, true> ? T : P[K] extends ParamSpec<infer T, boolean> ? T | undefined : never;
};

interface Opts<R extends boolean> {
  description: string;
  example?: string;
  required?: R;
  aliases?: string[];
}

function spec<T, R extends boolean>(name: string, o: Opts<R>, validator: Validator<T>): ParamSpec<T, R> {
  return {
    name,
    description: o.description,
    ...(o.example !== undefined ? { example: o.example } : {}),
    required: (o.required ?? false) as R,
    aliases: o.aliases ?? [],
    validator,
  };
}

function patternValidator<T>(type: string, description: string, pattern: string, parse: (v: string) => T, what: string): Validator<T> {
  const re = new RegExp(pattern);
  return {
    type, description, criteria: { type: 'string', pattern },
    check: (v) => (re.test(v) ? undefined : `expected ${what}, got ${JSON.stringify(v)}`),
    parse,
  };
}

/** Anchore's delim_parser: split on commas, trim each item. */
export function splitList(value: string): string[] {
  return value.trim() ? value.trim().split(',').map((s) => s.trim()) : [];
}

export const validators = {
  string: (): Validator<string> => ({
    type: 'type', description: 'A single string value', criteria: { type: 'string' },
    check: () => undefined, parse: (v) => v,
  }),
  bool: (): Validator<boolean> => ({
    type: 'BooleanString', description: 'The string "true" or "false" (any case)', criteria: { type: 'string', enum: ['true', 'false'] },
    check: (v) => (['true', 'false'].includes(v.toLowerCase()) ? undefined : `expected "true" or "false", got ${JSON.stringify(v)}`),
    parse: (v) => v.toLowerCase() === 'true',
  }),
  int: (): Validator<number> => patternValidator('IntegerString', 'A whole number written as a string', '^\\s*[\\d]+\\s*$',
    (v) => Number.parseInt(v.trim(), 10), 'a whole number such as "30"'),
  float: (): Validator<number> => {
    const base = patternValidator('FloatString', 'A decimal number written as a string', '^\\s*-*(\\d)*(\\.\\d*)?\\s*$',
      (v) => Number.parseFloat(v.trim()), 'a number such as "7.5"');
    return { ...base, check: (v) => base.check(v) ?? (Number.isNaN(Number.parseFloat(v.trim())) ? `expected a number such as "7.5", got ${JSON.stringify(v)}` : undefined) };
  },
  csv: (): Validator<string[]> => patternValidator('CommaDelimitedStringList', 'A comma-separated list of strings',
    '^\\s*(\\s*([^,]+)\\s*,)*\\s*([^,]+){1}\\s*$', splitList, 'a comma-separated list such as "a,b"'),
  csvInt: (): Validator<number[]> => patternValidator('CommaDelimitedStringOfNumbers', 'A comma-separated list of whole numbers',
    '^\\s*(\\s*(\\d+)\\s*,)*\\s*(\\d+){1}\\s*$', (v) => splitList(v).map((s) => Number.parseInt(s, 10)), 'a comma-separated list of numbers such as "22,80"'),
  oneOf: <const V extends readonly string[]>(values: V): Validator<V[number]> => ({
    type: 'EnumString', description: `One of: ${values.join(', ')}`, criteria: { type: 'string', enum: [...values] },
    check: (v) => (values.includes(v) ? undefined : `expected one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${JSON.stringify(v)}`),
    parse: (v) => v as V[number],
  }),
};

export const param = {
  str: <const R extends boolean = false>(name: string, o: Opts<R>) => spec(name, o, validators.string()),
  bool: <const R extends boolean = false>(name: string, o: Opts<R>) => spec(name, o, validators.bool()),
  int: <const R extends boolean = false>(name: string, o: Opts<R>) => spec(name, o, validators.int()),
  float: <const R extends boolean = false>(name: string, o: Opts<R>) => spec(name, o, validators.float()),
  csv: <const R extends boolean = false>(name: string, o: Opts<R>) => spec(name, o, validators.csv()),
  csvInt: <const R extends boolean = false>(name: string, o: Opts<R>) => spec(name, o, validators.csvInt()),
  oneOf: <const V extends readonly string[], const R extends boolean = false>(name: string, values: V, o: Opts<R>) => spec(name, o, validators.oneOf(values)),
  /** A parameter whose accepted values depend on another parameter (checked by the trigger's `check`). */
  linked: <const R extends boolean = false>(name: string, o: Opts<R>, criteria: Record<string, unknown>) =>
    spec(name, o, { type: 'LinkedValidator', description: 'Depends on the value of another parameter', criteria, check: () => undefined, parse: (v: string) => v }),
};
