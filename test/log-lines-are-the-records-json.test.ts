// The JSON logger (src/http/logger.ts) writes each line member by member instead of through one
// JSON.stringify of the record. The promise guarded here: every line is still exactly the JSON the
// record stands for — same members, same order, same escaping, the same values left out — whatever
// the fields hold.
import { describe, expect, it } from "vitest";
import { jsonLogger } from "../src/http/logger";

function linesOf(calls: (log: ReturnType<typeof jsonLogger>) => void): string[] {
  const lines: string[] = [];
  calls(jsonLogger((line) => lines.push(line)));
  return lines;
}

/** What the line must be: the record as JSON.stringify writes it, with its time taken from the line. */
function expected(line: string, message: string, fields: Record<string, unknown> = {}): string {
  const { ts } = JSON.parse(line) as { ts: string };
  const { level, ...rest } = fields;
  return JSON.stringify({ ts, level: level ?? "info", msg: message, ...rest });
}

const awkward: Record<string, unknown> = {
  quote: 'say "hi"\\ now',
  controls: "tab\tnew\nline\u0000nul\u001f",
  unicode: "é✓🙂",
  loneSurrogate: "\ud800x",
  lineSeparators: "\u2028\u2029",
  zero: 0,
  negativeZero: -0,
  fraction: 0.1,
  big: 1e21,
  tiny: 5e-324,
  notANumber: Number.NaN,
  infinite: Number.POSITIVE_INFINITY,
  yes: true,
  no: false,
  nothing: null,
  missing: undefined,
  fn: () => 1,
  sym: Symbol("s"),
  date: new Date(Date.UTC(2026, 11, 5, 12, 0, 0)),
  nested: { a: [1, "two", null, undefined], b: { c: "d" } },
  list: [1, undefined, () => 2],
  withToJson: { toJSON: () => "custom" },
  "key \"with\" quotes\n": 1,
  "": "empty key",
};

describe("a log line", () => {
  it("is the record's JSON, member for member, whatever the fields hold", () => {
    const [line] = linesOf((log) => log("request", awkward));
    expect(line).toBe(expected(line!, "request", awkward));
  });

  it("puts a given level in its place and keeps the rest in order", () => {
    const fields = { n: 1, level: "warn", after: "x" };
    const [line] = linesOf((log) => log("careful", fields));
    expect(line).toBe(expected(line!, "careful", fields));
    expect(JSON.parse(line!)).toMatchObject({ level: "warn", msg: "careful", n: 1, after: "x" });
  });

  it("is the bare head when there are no fields, and escapes the message", () => {
    const lines = linesOf((log) => {
      log("plain");
      log('a "quoted"\nmessage', {});
    });
    expect(lines[0]).toBe(expected(lines[0]!, "plain"));
    expect(lines[1]).toBe(expected(lines[1]!, 'a "quoted"\nmessage'));
  });

  it("never carries one line's message or time into the next, even within the same millisecond", () => {
    const lines = linesOf((log) => {
      for (let n = 0; n < 200; n++) log(n % 2 === 0 ? "even" : "odd", { n });
    });
    lines.forEach((line, n) => expect(line).toBe(expected(line, n % 2 === 0 ? "even" : "odd", { n })));
  });

  it("for a request's access, is the line log(\"request\", entry) writes, whatever the entry holds", () => {
    const entries = [
      { requestId: "0b7c3a8e-4f7e-4c55-9a51-1d2a3f4b5c6d", method: "GET", path: "/api/v1/quote", status: 200, ms: 0.1 },
      { requestId: 'weird"\\id', method: "POST", path: '/sondage/é✓🙂"\n', status: 402, ms: 12 },
      { requestId: "r", method: "", path: "", status: Number.NaN, ms: Number.POSITIVE_INFINITY },
    ];
    const lines = linesOf((log) => {
      for (const entry of entries) {
        log.access(entry);
        log("request", entry);
      }
    });
    expect(lines).toHaveLength(entries.length * 2);
    entries.forEach((entry, n) => {
      const [access, plain] = [lines[2 * n]!, lines[2 * n + 1]!];
      expect(access).toBe(expected(access, "request", entry));
      expect(access.slice(access.indexOf(",\"level\""))).toBe(plain.slice(plain.indexOf(",\"level\"")));
    });
  });

  it("for runs of requests that share method, path or status, still writes each one's own members and duration", () => {
    const durations = [0, -0, 0.1, 0.3, 1.1, 2.5, 12.3, 99.9, 100, 1234.5, 999_999.9, 1_000_000.5, 0.05, 1 / 3, -2.5, 5e-324, 1e21, Number.NaN];
    const entries = [
      ...durations.map((ms, n) => ({ requestId: `r-${n}`, method: "GET", path: "/api/v1/quote", status: 200, ms })),
      { requestId: "s", method: "GET", path: "/api/v1/quote", status: 304, ms: 0.1 },
      { requestId: "m", method: "HEAD", path: "/api/v1/quote", status: 304, ms: 0.1 },
      { requestId: "p", method: "HEAD", path: "/api/v1/quotes", status: 304, ms: 0.1 },
      { requestId: "back", method: "GET", path: "/api/v1/quote", status: 200, ms: 0.1 },
    ];
    const lines = linesOf((log) => {
      for (const entry of entries) log.access(entry);
    });
    expect(lines).toHaveLength(entries.length);
    entries.forEach((entry, n) => expect(lines[n]).toBe(expected(lines[n]!, "request", entry)));
  });

  it("fails as JSON.stringify does on a value it cannot write (a bigint), rather than writing a broken line", () => {
    const lines: string[] = [];
    const log = jsonLogger((line) => lines.push(line));
    expect(() => log("request", { amount: 1n })).toThrow(TypeError);
    expect(lines).toEqual([]);
  });
});
