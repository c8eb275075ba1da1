// Queries Kysely builds and compiles ONCE, then runs with new parameter values. Building a query is most
// of its cost on the hot paths (docs/performance.md), and the SQL of these queries never depends on the
// values: every value is a bound parameter. So they are built with placeholder values, compiled, and
// each call substitutes the real values for the placeholders in the parameter list. The SQL is still
// Kysely's.
//
// Safe by construction: a template is used only if every placeholder came out as a whole parameter —
// not inside the SQL text, not inside another value (a value derived from a placeholder, such as a
// JSON string built from it, must be declared). Otherwise the caller builds the query as usual.
//
// Three entry points: runTemplated (a read; on SQLite it runs the statement directly, without Kysely's
// executor, see registerDirectReader), templatedStatements (write statements for a batch: the lifecycle
// transition and the webhook outbox INSERT ride in every vote's batch), and compileTemplate/bindTemplate
// (the vote's own statements, src/voting/record-vote.ts). Binding copies the parameter list and writes
// the values at the positions found when the template was compiled.
import type { CompiledQuery, Compilable, Kysely } from "kysely";
import type { Database } from "./schema";

/** The placeholder for value `name`: a string no real value contains. */
export const placeholder = (name: string): string => `\u0000param:${name}\u0000`;

/** A compiled query of a template, with where each placeholder sits in its parameters. */
export interface TemplateQuery extends CompiledQuery {
  /** [parameter index, key of the value]: the key is the placeholder's name, or the declared derived value. */
  readonly slots: readonly (readonly [number, string])[];
}

export type Template = readonly TemplateQuery[];

/**
 * Compiles `statements` (built with `placeholder(name)` for each of `names`) into a template, or returns
 * undefined if a placeholder is not a whole parameter. `derived` declares values computed from
 * placeholders by the builder (e.g. JSON.stringify([placeholder("x")])) that substitution may replace;
 * their key in `bindTemplate`'s values is the derived string itself.
 */
export function compileTemplate(statements: readonly Compilable[], names: readonly string[], derived: readonly string[] = []): Template | undefined {
  const keyOf = new Map<string, string>([...names.map((name): [string, string] => [placeholder(name), name]), ...derived.map((d): [string, string] => [d, d])]);
  const template: TemplateQuery[] = [];
  for (const statement of statements) {
    const query = statement.compile();
    if (query.sql.includes("\u0000")) return undefined;
    const slots: [number, string][] = [];
    for (let i = 0; i < query.parameters.length; i++) {
      const parameter = query.parameters[i];
      if (typeof parameter !== "string") continue;
      const key = keyOf.get(parameter);
      if (key !== undefined) slots.push([i, key]);
      else if (parameter.includes("\u0000")) return undefined;
    }
    template.push({ ...query, slots });
  }
  return template;
}

/** The template's statements with real values: `values[key]` for each placeholder (or derived value). */
export function bindTemplate(template: Template, values: Readonly<Record<string, unknown>>): CompiledQuery[] {
  const bound: CompiledQuery[] = [];
  for (const query of template) {
    const parameters = query.parameters.slice();
    for (const [index, key] of query.slots) parameters[index] = values[key];
    bound.push({ sql: query.sql, parameters, query: query.query, queryId: query.queryId });
  }
  return bound;
}

/** A compiled query as a batch statement. */
export const asStatement = (query: CompiledQuery): Compilable => ({ compile: () => query });

/** Runs a read's SQL at once, without Kysely's executor (registered by stores that can: SQLite). */
export type DirectReader = (sql: string, parameters: readonly unknown[]) => unknown[];
const directReaders = new WeakMap<Kysely<Database>, DirectReader>();

/**
 * Lets runTemplated run `db`'s templated reads through `reader` (the SQLite store: a synchronous
 * better-sqlite3 `all()` on its cached statement, what Kysely's driver ends up calling after a
 * connection mutex and a few promise hops). Other stores (D1) go through Kysely.
 */
export function registerDirectReader(db: Kysely<Database>, reader: DirectReader): void {
  directReaders.set(db, reader);
}

/**
 * A memo of values built once per Kysely instance and key (compiled templates): `memo(db, key, build)`
 * returns what `build()` made the first time for that pair.
 */
export function perDatabaseMemo<T>(): (db: Kysely<Database>, key: string, build: () => T) => T {
  const byDb = new WeakMap<Kysely<Database>, Map<string, T>>();
  return (db, key, build) => {
    let perDb = byDb.get(db);
    if (!perDb) {
      perDb = new Map();
      byDb.set(db, perDb);
    }
    if (perDb.has(key)) return perDb.get(key) as T;
    const value = build();
    perDb.set(key, value);
    return value;
  };
}

const readTemplates = perDatabaseMemo<TemplateQuery | null>();

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
  const template = readTemplates(db, key, () => {
    const placeholders = Object.fromEntries(names.map((name) => [name, placeholder(name)]));
    return compileTemplate([build(db, placeholders)], names)?.[0] ?? null;
  });
  if (template === null) {
    const real = Object.fromEntries(names.map((name, i) => [name, values[i]])) as Record<string, string>;
    return (await db.executeQuery<Row>(build(db, real).compile() as CompiledQuery<Row>)).rows;
  }
  const parameters = template.parameters.slice();
  for (const [index, name] of template.slots) parameters[index] = values[names.indexOf(name)];
  const direct = directReaders.get(db);
  if (direct) return direct(template.sql, parameters) as Row[];
  return (await db.executeQuery<Row>({ sql: template.sql, parameters, query: template.query, queryId: template.queryId } as CompiledQuery<Row>)).rows;
}

const statementTemplates = perDatabaseMemo<Template | null>();

/**
 * The write statements `build(db, p)` bound to `values`: built and compiled once per `db` and `key` with
 * placeholders for the values named in `names`, then only re-bound. `key` must name everything else the
 * SQL or its constant parameters depend on. Falls back to building them with the real values when they
 * cannot be templated.
 */
export function templatedStatements(
  db: Kysely<Database>,
  key: string,
  names: readonly string[],
  build: (db: Kysely<Database>, p: Record<string, string>) => Compilable[],
  values: Readonly<Record<string, unknown>>,
): Compilable[] {
  const template = statementTemplates(db, key, () => {
    const placeholders = Object.fromEntries(names.map((name) => [name, placeholder(name)]));
    return compileTemplate(build(db, placeholders), names) ?? null;
  });
  if (template === null) return build(db, values as Record<string, string>);
  return bindTemplate(template, values).map(asStatement);
}
