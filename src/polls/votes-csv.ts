// GET /api/v1/polls/{id}/votes as CSV (Accept: text/csv or ?format=csv): every listed vote of the poll,
// with the columns of the JSON votes (demographics flattened), as a stream that reads the votes from the
// database one keyset page at a time, so an export never holds more than a page in memory. The stream is
// a web ReadableStream: the same code answers on Node and on Workers.
//
// Encoding: RFC 4180 (CRLF line ends, a header row, a field with a comma, a double quote, CR or LF is
// quoted and its quotes doubled), UTF-8. Formula injection (OWASP "CSV Injection"; ASVS 5.0 1.2.10): a
// field that starts with =, +, -, @, tab, CR, LF or NUL gets a single quote in front, so a spreadsheet
// shows it as text instead of evaluating it. Option texts are chosen by a poll's creator and may start
// so; every other column is an id, a time, a number or a validated code.
import type { ListingPosition } from "./vote-listing";

/** One vote as the JSON list serves it (PollVote). */
export interface CsvVote {
  id: string;
  optionId: string;
  optionText: string;
  createdAt: string;
  shownOrder: readonly string[] | null;
  shownPosition: number | null;
  demographics: { country: string | null; ageBand: string | null };
}

/** The header row, in column order. shownOrder is the option ids separated by spaces; null is an empty field. */
export const VOTES_CSV_COLUMNS = ["id", "optionId", "optionText", "createdAt", "shownOrder", "shownPosition", "country", "ageBand"] as const;

/** Votes read from the database per page of the export. */
export const VOTES_CSV_PAGE_SIZE = 500;

export const CSV_CONTENT_TYPE = "text/csv; charset=utf-8";

/** Characters that make a spreadsheet read a cell as a formula when they come first. */
const FORMULA_TRIGGER = /^[=+\-@\t\r\n\0]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One field: neutralised against formula injection, then quoted per RFC 4180 when it has to be. */
export function csvField(value: string | number | null): string {
  if (value === null) return "";
  let text = String(value);
  if (FORMULA_TRIGGER.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record, CRLF-terminated. */
export function csvRecord(fields: readonly (string | number | null)[]): string {
  return `${fields.map(csvField).join(",")}\r\n`;
}

export function voteCsvRecord(vote: CsvVote): string {
  return csvRecord([
    vote.id,
    vote.optionId,
    vote.optionText,
    vote.createdAt,
    vote.shownOrder ? vote.shownOrder.join(" ") : null,
    vote.shownPosition,
    vote.demographics.country,
    vote.demographics.ageBand,
  ]);
}

/** A page of the listing: its votes, and where the next page starts (null: this was the last). */
export interface CsvVotePage {
  votes: readonly CsvVote[];
  next: ListingPosition | null;
}

/**
 * The export as a byte stream: the header row, then one page of votes per pull, so a slow reader slows
 * the database reads down instead of piling pages up in memory. `readPage(after, limit)` reads the
 * listing after a position (undefined: from the start).
 */
export function votesCsvStream(readPage: (after: ListingPosition | undefined, limit: number) => Promise<CsvVotePage>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let after: ListingPosition | undefined;
  let headerSent = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!headerSent) {
          headerSent = true;
          controller.enqueue(encoder.encode(csvRecord(VOTES_CSV_COLUMNS)));
          return;
        }
        const page = await readPage(after, VOTES_CSV_PAGE_SIZE);
        if (page.votes.length > 0) controller.enqueue(encoder.encode(page.votes.map(voteCsvRecord).join("")));
        if (page.next === null) controller.close();
        else after = page.next;
      },
    },
    // Pull the next page only once the previous one has been taken.
    { highWaterMark: 0 },
  );
}

/** The download's file name: the poll id is a UUID (checked by the caller's lookup), so nothing needs escaping. */
export function votesCsvFilename(pollId: string): string {
  return `poll-${pollId.replace(/[^0-9A-Za-z-]/g, "")}-votes.csv`;
}

export type VotesFormat = "json" | "csv";

/** The quality an Accept header gives a media type: that of its most specific matching range (0 when none). */
function quality(accept: readonly { range: string; q: number }[], type: string): number {
  const [major] = type.split("/");
  let best: { specificity: number; q: number } | undefined;
  for (const { range, q } of accept) {
    const specificity = range === type ? 2 : range === `${major}/*` ? 1 : range === "*/*" ? 0 : -1;
    if (specificity >= 0 && (!best || specificity > best.specificity)) best = { specificity, q };
  }
  return best?.q ?? 0;
}

function parseAccept(header: string): { range: string; q: number }[] {
  return header.split(",").map((part) => {
    const [range = "", ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith("q="));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    return { range, q: Number.isFinite(q) ? Math.min(Math.max(q, 0), 1) : 0 };
  });
}

/**
 * `?format=` decides; without it, CSV only when the Accept header names text/csv itself and prefers it at
 * least as much as JSON (so an Accept of anything, a browser's Accept or no Accept at all keep the JSON pages).
 */
export function votesFormat(format: VotesFormat | undefined, accept: string | undefined): VotesFormat {
  if (format) return format;
  if (!accept) return "json";
  const ranges = parseAccept(accept);
  const csv = ranges.some((r) => r.range === "text/csv" && r.q > 0) ? quality(ranges, "text/csv") : 0;
  return csv > 0 && csv >= quality(ranges, "application/json") ? "csv" : "json";
}
