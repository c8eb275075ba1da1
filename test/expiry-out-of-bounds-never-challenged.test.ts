// A poll's expiresAt is bounded, and the bound is stated the same way everywhere: an ISO 8601 timestamp
// whose year has 4 digits as written and in UTC, more than 5 minutes and at most POLL_MAX_EXPIRY_DAYS
// (default 365) days in the future, stored and shown in UTC as YYYY-MM-DDTHH:mm:ss.sssZ. Anything
// outside is a 400 naming expiresAt before any 402 challenge, so it is never charged; the examples the
// service serves (402 bazaar example, /agents.md) stay inside the bound.
import fc from "fast-check";
import { OpenAPIHono } from "@hono/zod-openapi";
import { decodePaymentRequiredHeader } from "@x402/core/http";
import type { DiscoveryExtension } from "@x402/extensions/bazaar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config";
import { renderAgentsMarkdown } from "../src/discovery/agent-docs";
import { bazaarJsonSchema, discoveryMetadata } from "../src/discovery/declaration";
import { X_GUIDANCE } from "../src/discovery/guidance";
import { BASE } from "../src/payment/networks";
import { createPollRoute } from "../src/polls/create";
import {
  DAY_MS,
  DEFAULT_MAX_EXPIRY_LEAD_MS,
  EXPIRES_AT_DESCRIPTION,
  EXPIRES_AT_PATTERN,
  EXPIRES_AT_YEAR_MESSAGE,
  STORED_EXPIRY_DESCRIPTION,
  exampleExpiresAt,
  expiryProblem,
  normalizeExpiry,
} from "../src/polls/expiry";
import { CreatePollBody, MIN_EXPIRY_LEAD_MS, exampleCreatePollBody } from "../src/polls/schema";
import { pollBody, startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll } from "./support/polls";

const STORED_FORM = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const NOW = Date.parse("2026-12-05T10:00:00.000Z");
const MINUTE = 60_000;

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** The instant `ms` written in local time at `offsetMinutes` from UTC, e.g. 2027-06-01T14:00:00.000+02:00. */
function withOffset(ms: number, offsetMinutes: number): string {
  const local = new Date(ms + offsetMinutes * MINUTE).toISOString().slice(0, 23);
  const abs = Math.abs(offsetMinutes);
  return `${local}${offsetMinutes < 0 ? "-" : "+"}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

const acceptsShape = (expiresAt: string) => CreatePollBody.shape.expiresAt.safeParse(expiresAt).success;

describe("normalizeExpiry: the stored and shown form", () => {
  it.each([
    ["2027-01-15T12:00:00Z", "2027-01-15T12:00:00.000Z"],
    ["2027-01-15T12:00:00.5+02:00", "2027-01-15T10:00:00.500Z"],
    ["2027-01-15T12:00:00.123456Z", "2027-01-15T12:00:00.123Z"],
    // Offsets move the date across a leap day, a month and a year.
    ["2028-02-29T23:30:00-01:00", "2028-03-01T00:30:00.000Z"],
    ["2028-03-01T00:30:00+01:00", "2028-02-29T23:30:00.000Z"],
    ["2027-01-01T00:30:00+01:00", "2026-12-31T23:30:00.000Z"],
    ["2027-12-31T23:59:59.999-23:59", "2028-01-01T23:58:59.999Z"],
    // The edges of 4 digits that stay inside.
    ["9999-12-31T12:00:00Z", "9999-12-31T12:00:00.000Z"],
    ["9999-12-31T23:59:59.999+14:00", "9999-12-31T09:59:59.999Z"],
    ["0000-01-01T00:00:00Z", "0000-01-01T00:00:00.000Z"],
  ])("%s → %s", (input, stored) => {
    expect(normalizeExpiry(input)).toBe(stored);
  });

  it("refuses what has no 4-digit UTC form instead of storing +010000-…", () => {
    for (const input of ["9999-12-31T23:59:59.999-14:00", "0000-01-01T00:30:00+01:00", "+010000-01-01T00:00:00Z", "tomorrow"]) {
      expect(() => normalizeExpiry(input), input).toThrow(RangeError);
    }
  });
});

describe("expiryProblem: the time window", () => {
  const lead = DEFAULT_MAX_EXPIRY_LEAD_MS;

  it("is open at 5 minutes: exactly 5 minutes ahead is refused, a millisecond more accepted", () => {
    expect(expiryProblem(new Date(NOW + MIN_EXPIRY_LEAD_MS).toISOString(), NOW, lead)).toBe(
      "must be more than 5 minutes and at most 365 days in the future",
    );
    expect(expiryProblem(new Date(NOW + MIN_EXPIRY_LEAD_MS + 1).toISOString(), NOW, lead)).toBeUndefined();
    expect(expiryProblem(new Date(NOW - DAY_MS).toISOString(), NOW, lead)).toMatch(/more than 5 minutes/);
  });

  it("is closed at the limit: exactly the limit ahead is accepted, a millisecond more refused, naming the days", () => {
    expect(expiryProblem(new Date(NOW + lead).toISOString(), NOW, lead)).toBeUndefined();
    expect(expiryProblem(new Date(NOW + lead + 1).toISOString(), NOW, lead)).toMatch(/at most 365 days/);
    const thirty = 30 * DAY_MS;
    expect(expiryProblem(new Date(NOW + thirty).toISOString(), NOW, thirty)).toBeUndefined();
    expect(expiryProblem(new Date(NOW + thirty + 1).toISOString(), NOW, thirty)).toBe(
      "must be more than 5 minutes and at most 30 days in the future",
    );
    expect(expiryProblem(new Date(NOW + 2 * DAY_MS).toISOString(), NOW, DAY_MS)).toMatch(/at most 1 day in/);
  });

  it("compares instants, not text: the same boundaries written with offsets", () => {
    expect(expiryProblem(withOffset(NOW + MIN_EXPIRY_LEAD_MS, 120), NOW, lead)).toBeDefined();
    expect(expiryProblem(withOffset(NOW + MIN_EXPIRY_LEAD_MS + 1, 120), NOW, lead)).toBeUndefined();
    expect(expiryProblem(withOffset(NOW + lead, -(14 * 60)), NOW, lead)).toBeUndefined();
    expect(expiryProblem(withOffset(NOW + lead + 1, -(14 * 60)), NOW, lead)).toBeDefined();
    expect(expiryProblem(withOffset(NOW + lead + 1, 23 * 60 + 59), NOW, lead)).toBeDefined();
  });

  it("refuses the year 9999 at -14:00 and anything that is no timestamp, whatever the limit", () => {
    expect(expiryProblem("9999-12-31T23:59:59.999-14:00", NOW, 3650 * DAY_MS)).toBe(EXPIRES_AT_YEAR_MESSAGE);
    expect(expiryProblem("+010000-01-01T00:00:00.000Z", NOW, 3650 * DAY_MS)).toMatch(/ISO 8601/);
    expect(expiryProblem("Jan 1 2027", NOW, lead)).toMatch(/ISO 8601/);
  });
});

describe("the request schema: the structural half", () => {
  it("refuses 5+-digit, expanded and out-of-range years, and the two edge days' escaping offsets", () => {
    for (const bad of [
      "10000-01-01T00:00:00Z",
      "+010000-01-01T00:00:00Z",
      "-000001-01-01T00:00:00Z",
      "9999-12-31T23:59:59.999-14:00",
      "9999-12-31T00:00:00-00:01",
      "9999-12-31T12:00:00-00:00",
      "0000-01-01T00:30:00+01:00",
      "2027-02-29T12:00:00Z",
      "2027-01-15T12:00Z",
      "2027-01-15 12:00:00Z",
    ]) {
      expect(acceptsShape(bad), bad).toBe(false);
    }
    const refused = CreatePollBody.safeParse({ ...pollBody(), expiresAt: "9999-12-31T23:59:59.999-14:00" });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]).toMatchObject({ path: ["expiresAt"], message: EXPIRES_AT_YEAR_MESSAGE });
  });

  it("accepts offsets, fractions and the edge days' inward offsets", () => {
    for (const good of ["2027-06-01T12:00:00+02:00", "2027-06-01T12:00:00.123456Z", "9999-12-31T12:00:00+00:00", "9999-12-31T23:00:00+05:00", "0000-01-01T12:00:00-05:00", "2028-02-29T00:00:00Z"]) {
      expect(acceptsShape(good), good).toBe(true);
    }
  });

  it("whatever it accepts is storable with a 4-digit year, and its published pattern accepts it too", () => {
    const pattern = new RegExp(EXPIRES_AT_PATTERN);
    const year = fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(0, 1, 9998, 9999));
    const zone = fc.oneof(
      fc.constant("Z"),
      fc.tuple(fc.constantFrom("+", "-"), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([s, h, m]) => `${s}${pad(h)}:${pad(m)}`),
    );
    const timestamp = fc
      .tuple(
        year,
        fc.oneof(fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 })), fc.constantFrom([1, 1], [12, 31], [2, 29])),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 59 }),
        fc.option(fc.integer({ min: 0, max: 999_999 }).map((n) => `.${n}`), { nil: "" }),
        zone,
      )
      .map(([y, [mo, d], h, mi, s, frac, z]) => `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${frac}${z}`);
    fc.assert(
      fc.property(timestamp, (expiresAt) => {
        if (!acceptsShape(expiresAt)) return;
        expect(pattern.test(expiresAt)).toBe(true);
        const stored = normalizeExpiry(expiresAt);
        expect(stored).toMatch(STORED_FORM);
        expect(Date.parse(stored)).toBe(Date.parse(expiresAt));
      }),
      { numRuns: 5000 },
    );
  });
});

describe("the rule as published", () => {
  it("openapi.json: the request schema carries the pattern and the rule, with no date that could go stale", () => {
    const app = new OpenAPIHono();
    app.openapi(createPollRoute, (c) => c.json({}) as never);
    const document = app.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "t", version: "1" } }) as unknown as {
      components: { schemas: { CreatePollRequest: { properties: { expiresAt: Record<string, unknown> } } } };
    };
    const expiresAt = document.components.schemas.CreatePollRequest.properties.expiresAt;
    expect(expiresAt).toEqual({ type: "string", format: "date-time", pattern: EXPIRES_AT_PATTERN, description: EXPIRES_AT_DESCRIPTION });
    expect(EXPIRES_AT_DESCRIPTION).toContain("more than 5 minutes and at most 365 days in the future");
    expect(EXPIRES_AT_DESCRIPTION).toContain("Stored in UTC");
  });

  it("the bazaar declaration: the same pattern and description, not zod's date-time pattern", () => {
    const schema = bazaarJsonSchema(CreatePollBody, "input") as { properties: { expiresAt: Record<string, unknown> } };
    expect(schema.properties.expiresAt).toEqual({ type: "string", pattern: EXPIRES_AT_PATTERN, description: EXPIRES_AT_DESCRIPTION });
  });

  it("x-guidance states the window with the default limit and points at /agents.md for this deployment's", () => {
    expect(X_GUIDANCE).toContain("more than 5 minutes and at most 365 days in the future by default");
    expect(X_GUIDANCE).toContain("/agents.md");
    expect(X_GUIDANCE.length).toBeLessThan(4000);
  });

  it("the default limit stated by the documents is POLL_MAX_EXPIRY_DAYS's default", () => {
    expect(loadConfig({}).polls.maxExpiryLeadMs).toBe(DEFAULT_MAX_EXPIRY_LEAD_MS);
    expect(loadConfig({ POLL_MAX_EXPIRY_DAYS: "30" }).polls.maxExpiryLeadMs).toBe(30 * DAY_MS);
  });

  it("/agents.md states this deployment's limit, and its example and snippet stay within it", () => {
    const render = (maxExpiryLeadMs?: number) =>
      renderAgentsMarkdown({ publicBaseUrl: "https://polls.example.org", networks: [], mode: "production", maxExpiryLeadMs, now: () => NOW });
    const byDefault = render();
    expect(byDefault).toContain("more than 5 minutes and at most 365 days in the future (this deployment's limit)");
    expect(byDefault).toContain(`"expiresAt": "${exampleExpiresAt(NOW, DEFAULT_MAX_EXPIRY_LEAD_MS)}"`);
    expect(byDefault).toContain("Date.now() + 7 * 24 * 3600 * 1000");
    const short = render(3 * DAY_MS);
    expect(short).toContain("at most 3 days in the future");
    expect(short).toContain("Date.now() + 3 * 24 * 3600 * 1000");
    const example = /"expiresAt": "([^"]+)"/.exec(short)![1]!;
    expect(expiryProblem(example, NOW, 3 * DAY_MS)).toBeUndefined();
    expect(short).not.toContain("2099");
  });
});

describe("the served examples", () => {
  it("exampleExpiresAt: valid, stored form, the same all UTC day, within any limit of a day or more", () => {
    const day = Date.parse("2026-12-05T00:00:00.000Z");
    for (const limitDays of [1, 2, 7, 30, 31, 365, 3650]) {
      const limit = limitDays * DAY_MS;
      for (const now of [day, day + 1, day + 12 * 3_600_000, day + DAY_MS - 4 * MINUTE, day + DAY_MS - 1]) {
        const example = exampleExpiresAt(now, limit);
        expect(example, `${limitDays} days at ${new Date(now).toISOString()}`).toMatch(STORED_FORM);
        expect(expiryProblem(example, now, limit), `${limitDays} days at ${new Date(now).toISOString()}`).toBeUndefined();
      }
      if (limitDays >= 2) expect(exampleExpiresAt(day + DAY_MS - 1, limit)).toBe(exampleExpiresAt(day, limit));
    }
    // A month of process uptime on the default limit: a challenge built once stays valid that long.
    const built = exampleExpiresAt(NOW, DEFAULT_MAX_EXPIRY_LEAD_MS);
    expect(expiryProblem(built, NOW + 29 * DAY_MS, DEFAULT_MAX_EXPIRY_LEAD_MS)).toBeUndefined();
  });

  it("the bazaar example body passes the schema and the window, for the limit it is given", () => {
    for (const limit of [DEFAULT_MAX_EXPIRY_LEAD_MS, 3 * DAY_MS]) {
      const metadata = discoveryMetadata({
        publicBaseUrl: "https://polls.example.org",
        resourceUrl: "https://polls.example.org/api/v1/polls",
        exampleNetwork: BASE,
        maxExpiryLeadMs: limit,
        now: () => NOW,
      });
      const body = metadata.bazaar.exampleBody as { expiresAt: string };
      expect(CreatePollBody.safeParse(body).success).toBe(true);
      expect(body).toEqual(exampleCreatePollBody(NOW, limit));
      expect(expiryProblem(body.expiresAt, NOW, limit)).toBeUndefined();
    }
  });
});

// The route itself: a real local service, plain fetch without PAYMENT-SIGNATURE.
describe("POST /api/v1/polls refuses an out-of-bounds expiresAt before any challenge", () => {
  let service: LocalService;
  let thirtyDays: LocalService;
  // Shorter than the examples' usual 30-day lead: they must shrink to fit.
  let week: LocalService;
  beforeAll(async () => {
    [service, thirtyDays, week] = await Promise.all([
      startLocalService(),
      startLocalService({ POLL_MAX_EXPIRY_DAYS: "30" }),
      startLocalService({ POLL_MAX_EXPIRY_DAYS: "7" }),
    ]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([service?.stop(), thirtyDays?.stop(), week?.stop()]);
  });

  const post = (target: LocalService, expiresAt: string) =>
    fetch(`${target.url}/api/v1/polls`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(pollBody({ expiresAt })),
    });

  async function expectRefused(response: Response): Promise<string> {
    const text = await response.text();
    expect(response.status, text).toBe(400);
    expect(response.headers.get("PAYMENT-REQUIRED")).toBeNull();
    const { error } = JSON.parse(text) as { error: { code: string; message: string; param: string } };
    expect(error).toMatchObject({ code: "validation_error", param: "expiresAt" });
    expect(error.message).toMatch(/^expiresAt: /);
    return error.message;
  }

  async function expectChallenged(response: Response): Promise<void> {
    const text = await response.text();
    expect(response.status, text).toBe(402);
    expect(response.headers.get("PAYMENT-REQUIRED")).toBeTruthy();
  }

  it("the year 9999 at -14:00 (which is +010000 in UTC) → 400", async () => {
    const message = await expectRefused(await post(service, "9999-12-31T23:59:59.999-14:00"));
    expect(message).toContain("4-digit year");
  });

  it("2 years ahead → 400 naming the 365-day limit", async () => {
    const message = await expectRefused(await post(service, new Date(Date.now() + 730 * DAY_MS).toISOString()));
    expect(message).toContain("at most 365 days");
  });

  it("4 minutes ahead → 400", async () => {
    await expectRefused(await post(service, new Date(Date.now() + 4 * MINUTE).toISOString()));
  });

  it("364 days ahead → the 402 challenge", async () => {
    await expectChallenged(await post(service, new Date(Date.now() + 364 * DAY_MS).toISOString()));
  });

  it("a non-UTC offset within the bounds (+02:00, a month ahead) → the 402 challenge", async () => {
    const expiresAt = withOffset(Date.now() + 30 * DAY_MS, 120);
    expect(expiresAt).toMatch(/\+02:00$/);
    await expectChallenged(await post(service, expiresAt));
  });

  it("POLL_MAX_EXPIRY_DAYS=30: 31 days ahead → 400 naming 30 days; 29 days → the 402 challenge", async () => {
    const message = await expectRefused(await post(thirtyDays, new Date(Date.now() + 31 * DAY_MS).toISOString()));
    expect(message).toContain("at most 30 days");
    await expectChallenged(await post(thirtyDays, new Date(Date.now() + 29 * DAY_MS).toISOString()));
  });

  it("the 402's own example body is priced, not refused, whatever the limit", async () => {
    for (const target of [service, thirtyDays, week]) {
      const bare = await fetch(`${target.url}/api/v1/polls`, { method: "POST" });
      expect(bare.status).toBe(402);
      const bazaar = decodePaymentRequiredHeader(bare.headers.get("PAYMENT-REQUIRED")!).extensions!.bazaar as DiscoveryExtension;
      const example = (bazaar.info.input as unknown as { body: { expiresAt: string } }).body;
      expect(example.expiresAt).toMatch(STORED_FORM);
      expect(example.expiresAt).not.toContain("2099");
      await expectChallenged(await post(target, example.expiresAt));
    }
  });

  it("/openapi.json (what `npm run openapi` writes) states the rule and carries no date that goes stale", async () => {
    const text = await (await fetch(`${service.url}/openapi.json`)).text();
    const schemas = (JSON.parse(text) as { components: { schemas: Record<string, { properties: Record<string, unknown> }> } }).components.schemas;
    expect(schemas.CreatePollRequest!.properties.expiresAt).toEqual({
      type: "string",
      format: "date-time",
      pattern: EXPIRES_AT_PATTERN,
      description: EXPIRES_AT_DESCRIPTION,
    });
    expect(schemas.Poll!.properties.expiresAt).toEqual({ type: "string", description: STORED_EXPIRY_DESCRIPTION });
    expect(text).toContain("at most 365 days in the future by default");
    expect(text).not.toContain("2099");
  });

  it("/agents.md states each deployment's own limit", async () => {
    expect(await (await fetch(`${service.url}/agents.md`)).text()).toContain("at most 365 days in the future");
    expect(await (await fetch(`${thirtyDays.url}/agents.md`)).text()).toContain("at most 30 days in the future");
    const weekDocs = await (await fetch(`${week.url}/agents.md`)).text();
    expect(weekDocs).toContain("at most 7 days in the future");
    const example = /"expiresAt": "([^"]+)"/.exec(weekDocs)![1]!;
    expect(expiryProblem(example, Date.now(), 7 * DAY_MS)).toBeUndefined();
  });

  it("a paid poll's expiresAt written with an offset is stored and shown in UTC", async () => {
    const expiresAt = withOffset(Date.now() + 10 * DAY_MS, -(5 * 60 + 30)).replace(/\.\d{3}/, ".5");
    const created = await createPaidPoll(service, { expiresAt });
    const shown = (await (await fetch(`${service.url}/api/v1/polls/${created.id}`)).json()) as { expiresAt: string };
    expect(shown.expiresAt).toBe(normalizeExpiry(expiresAt));
    expect(shown.expiresAt).toMatch(STORED_FORM);
  });

  it("nothing refused was written", async () => {
    const polls = await thirtyDays.store.db.selectFrom("polls").select(({ fn }) => fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    expect(Number(polls.n)).toBe(0);
  });
});
