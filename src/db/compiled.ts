// Queries Kysely builds and compiles ONCE, then runs with new parameter values. Building a query is most
// of its cost on the hot paths (a vote's ten statements took ~350 µs to build; a primary-key read
// ~30 µs against ~2 µs to run), and the SQL of these queries never depends on the values: every value
// is a bound parameter. So they are built with placeholder values, compiled, and each call substitutes
// the real values for the placeholders in the parameter list. The SQL is still Kysely's.
//
// Safe by construction: a template is used only if every placeholder came out as a whole parameter —
// not inside the SQL text, not inside another value (a value derived from a placeholder, such as a
// JSON string built from it, must be declared). Otherwise the caller builds the query as usual.
import type { CompiledQuery, Compilable, Kysely } from "kysely";
import type { Database } from "./schema";

/** The placeholder for value `name`: a string no real value contains. */
export const placeholder = (name: string): string => `\u0000param:${name}\u0000`;

export type Template = readonly CompiledQuery[];

/**
 * Compiles `statements` (built with `placeholder(name)` for each of `names`) into a template, or returns
 * undefined if a placeholder is not a whole parameter. `derived` declares values computed from
 * placeholders by the builder (e.g. JSON.stringify([placeholder("x")])) that substitution may replace.
 */
export function compileTemplate(statements: readonly Compilable[], names: readonly string[], derived: readonly string[] = []): Template | undefined {
  const whole = new Set([...names.map(placeholder), ...derived]);
  const compiled = statements.map((statement) => statement.compile());
  for (const query of compiled) {
    if (query.sql.includes("\u0000")) return undefined;
    for (const parameter of query.parameters) {
      if (typeof parameter === "string" && parameter.includes("\u0000") && !whole.has(parameter)) return undefined;
    }
  }
  return compiled;
}

/** The template's statements with real values: `values` maps a placeholder (or derived value) to its value. */
export function bindTemplate(template: Template, values: ReadonlyMap<unknown, unknown>): CompiledQuery[] {
  return template.map((query) => ({
    ...query,
    parameters: query.parameters.map((parameter) => (values.has(parameter) ? values.get(parameter) : parameter)),
  }));
}

/** A compiled query as a batch statement. */
export const asStatement = (query: CompiledQuery): Compilable => ({ compile: () => query });

const readTemplates = new WeakMap<Kysely<Database>, Map<string, CompiledQuery | null>>();

/**
 * Runs the read `build(db, p)` — built once per `db` and `key` with placeholders for the values — with
 * `values` (in the order of `names`). Falls back to building it with the real values if it cannot be
 * templated.
 */
export async function runTemplated<Row>(
  db: Kysely<Database>,
  key: string,
  names: readonly string[],
  build: (db: Kysely<Database>, p: Record<string, string>) => Compilable,
  values: readonly unknown[],
): Promise<Row[]> {
  let perDb = readTemplates.get(db);
  if (!perDb) {
    perDb = new Map();
    readTemplates.set(db, perDb);
  }
  let template = perDb.get(key);
  if (template === undefined) {
    const placeholders = Object.fromEntries(names.map((name) => [name, placeholder(name)]));
    template = compileTemplate([build(db, placeholders)], names)?.[0] ?? null;
    perDb.set(key, template);
  }
  if (template === null) {
    const real = Object.fromEntries(names.map((name, i) => [name, values[i]])) as Record<string, string>;
    return (await db.executeQuery<Row>(build(db, real).compile() as CompiledQuery<Row>)).rows;
  }
  const bound = new Map(names.map((name, i) => [placeholder(name), values[i]]));
  const [query] = bindTemplate([template], bound);
  return (await db.executeQuery<Row>(query as CompiledQuery<Row>)).rows;
}
