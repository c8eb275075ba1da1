// GET /polls/{id}/votes as CSV (Accept: text/csv or ?format=csv) exports every vote of a poll: 1,000
// votes cast through the vote route (simulated World ID of local mode) come out as exactly the rows of
// the JSON pages, in the same order, RFC 4180-encoded; the read token guards it like the JSON route and
// its refusals stay JSON. The export reads the votes a page per pull, never all at once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareVote, submitPrepared } from "../scripts/lib/voter";
import { votesCsvStream, VOTES_CSV_COLUMNS, VOTES_CSV_PAGE_SIZE, type CsvVote } from "../src/polls/votes-csv";
import { parseCsv } from "./support/csv";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, mapLimit, type CreatedPoll } from "./support/polls";
import type { Vote } from "../src/client/types";

const VOTES = 1_000;
let service: LocalService;
let poll: CreatedPoll;

/** The CSV row a JSON vote must become (no option text here starts with a formula character). */
const expectedRow = (v: Vote): string[] => [
  v.id,
  v.optionId,
  v.optionText,
  v.createdAt,
  v.shownOrder ? v.shownOrder.join(" ") : "",
  v.shownPosition === null ? "" : String(v.shownPosition),
  v.demographics.country ?? "",
  v.demographics.ageBand ?? "",
];

async function jsonPages(limit: number): Promise<Vote[]> {
  const seen: Vote[] = [];
  let cursor: string | null = null;
  do {
    const response = await fetch(`${service.url}/api/v1/polls/${poll.id}/votes?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`, {
      headers: { "x-read-token": poll.readToken },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { votes: Vote[]; nextCursor: string | null };
    seen.push(...body.votes);
    cursor = body.nextCursor;
  } while (cursor && seen.length <= VOTES);
  return seen;
}

const votesUrl = (query = "") => `${service.url}/api/v1/polls/${poll.id}/votes${query}`;

beforeAll(async () => {
  service = await startLocalService();
  // A text that needs quoting (comma, quotes) exercises RFC 4180 on every third row.
  poll = await createPaidPoll(service, {
    maxResponses: VOTES,
    options: [{ text: "Option A" }, { text: 'Say "yes", please' }, { text: "Ünïcødé ✓" }],
  });
  const ids = poll.options.map((o) => o.id);
  const answers = await mapLimit(Array.from({ length: VOTES }, (_, i) => i), 16, async (i) => {
    const step = await prepareVote(service.url, {
      pollId: poll.id,
      optionId: ids[i % 3]!,
      human: `csv-export-${i}`,
      ...(i % 4 === 0 ? {} : { shownOrder: i % 2 ? ids : [...ids].reverse() }),
      demographics: i % 5 === 0 ? null : { country: ["de", "fr", "br"][i % 3]!, ageBand: i % 7 === 0 ? null : "25-34" },
    });
    if ("failed" in step) throw new Error(JSON.stringify(step.failed));
    return (await submitPrepared(service.url, step.prepared)).status;
  });
  expect(answers.every((status) => status === 201)).toBe(true);
}, 300_000);
afterAll(async () => {
  await service?.stop();
});

describe("votes as CSV", () => {
  it("exports every one of 1,000 votes with exactly the rows of the JSON pages, in their order", async () => {
    const pages = await jsonPages(100);
    expect(pages).toHaveLength(VOTES);

    const response = await fetch(votesUrl(), { headers: { "x-read-token": poll.readToken, accept: "text/csv" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(response.headers.get("content-disposition")).toBe(`attachment; filename="poll-${poll.id}-votes.csv"`);
    expect(response.headers.get("vary")).toMatch(/accept/i);
    expect(response.headers.get("cache-control")).toBe("private, no-store");
    const text = await response.text();
    expect(text.endsWith("\r\n")).toBe(true);
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual([...VOTES_CSV_COLUMNS]);
    expect(rows).toEqual(pages.map(expectedRow));
    // The quoted text is quoted and its quotes doubled; the anonymised id, never the stored one.
    expect(text).toContain(',"Say ""yes"", please",');
    expect(new Set(rows.map((r) => r[0])).size).toBe(VOTES);
    const stored = await service.store.db.selectFrom("votes").select(["id", "nullifier"]).where("poll_id", "=", poll.id).execute();
    for (const { id, nullifier } of stored.slice(0, 50)) {
      expect(text).not.toContain(id);
      expect(text).not.toContain(nullifier.slice(2));
    }
  });

  it("answers ?format=csv with the same bytes, and keeps JSON for format=json, */* and no Accept", async () => {
    const headers = { "x-read-token": poll.readToken };
    const byAccept = await (await fetch(votesUrl(), { headers: { ...headers, accept: "text/csv" } })).text();
    const byQuery = await fetch(votesUrl("?format=csv"), { headers });
    expect(byQuery.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(await byQuery.text()).toBe(byAccept);
    // Negotiated: CSV when preferred, JSON when JSON is preferred or anything goes.
    const preferred = await fetch(votesUrl(), { headers: { ...headers, accept: "text/csv, application/json;q=0.5" } });
    expect(preferred.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    await preferred.body?.cancel();
    for (const [query, accept] of [
      ["?format=json", "text/csv"],
      ["", "*/*"],
      ["", "application/json, text/csv;q=0.5"],
      ["", undefined],
    ] as const) {
      const response = await fetch(votesUrl(`${query}${query ? "&" : "?"}limit=5`), { headers: { ...headers, ...(accept ? { accept } : {}) } });
      expect(response.status, `${query} ${accept}`).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      expect(((await response.json()) as { votes: unknown[] }).votes).toHaveLength(5);
    }
  });

  it("refuses an unknown format with the JSON envelope naming the param", async () => {
    const response = await fetch(votesUrl("?format=xlsx"), { headers: { "x-read-token": poll.readToken } });
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({ error: { code: "validation_error", param: "format" } });
  });

  it("asks for the read token like the JSON route: 401 and 403 as JSON, never a CSV", async () => {
    // Another poll's genuine token.
    const other = await createPaidPoll(service, {}, 1);
    for (const ask of [{ query: "", accept: "text/csv" }, { query: "?format=csv", accept: "text/csv" }, { query: "?format=csv", accept: undefined }]) {
      const acceptHeader: Record<string, string> = ask.accept ? { accept: ask.accept } : {};
      const missing = await fetch(votesUrl(ask.query), { headers: acceptHeader });
      expect(missing.status).toBe(401);
      expect(missing.headers.get("content-type")).toMatch(/^application\/json/);
      expect(missing.headers.get("content-disposition")).toBeNull();
      expect(await missing.json()).toMatchObject({ error: { code: "read_token_missing" } });

      const wrong = await fetch(votesUrl(ask.query), { headers: { ...acceptHeader, "x-read-token": other.readToken } });
      expect(wrong.status).toBe(403);
      expect(wrong.headers.get("content-type")).toMatch(/^application\/json/);
      expect(await wrong.json()).toMatchObject({ error: { code: "read_token_invalid" } });
    }
  });
});

describe("the CSV stream", () => {
  it("reads one page from the database per pull, never ahead of its reader", async () => {
    const reads: number[] = [];
    const vote = (n: number): CsvVote => ({
      id: `id-${n}`,
      optionId: "o",
      optionText: "t",
      createdAt: "2026-01-01T00:00:00.000Z",
      shownOrder: null,
      shownPosition: null,
      demographics: { country: null, ageBand: null },
    });
    const stream = votesCsvStream(async (after, limit) => {
      const page = after === undefined ? 0 : after.rank + 1;
      reads.push(page);
      expect(limit).toBe(VOTES_CSV_PAGE_SIZE);
      return {
        votes: Array.from({ length: 2 }, (_, i) => vote(page * 2 + i)),
        next: page < 9 ? { minute: "2026-01-01T00:00", key: `k${page}`, rank: page } : null,
      };
    });
    const reader = stream.getReader();
    const decoder = new TextDecoder();
    expect(decoder.decode((await reader.read()).value)).toBe(`${VOTES_CSV_COLUMNS.join(",")}\r\n`);
    expect(reads).toEqual([]);
    expect(decoder.decode((await reader.read()).value)).toBe("id-0,o,t,2026-01-01T00:00:00.000Z,,,,\r\nid-1,o,t,2026-01-01T00:00:00.000Z,,,,\r\n");
    await new Promise((resolve) => setImmediate(resolve));
    expect(reads).toEqual([0]);
    await reader.read();
    expect(reads).toEqual([0, 1]);
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += decoder.decode(chunk.value);
    expect(reads).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(rest.split("\r\n").filter(Boolean)).toHaveLength(16);
  });
});
