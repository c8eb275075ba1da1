// The rule for a poll's expiresAt, in one place for validation, docs and schemas:
//   an ISO 8601 timestamp with seconds and a zone whose year has 4 digits as written and in UTC, more
//   than 5 minutes in the future and at most the deployment's limit ahead (POLL_MAX_EXPIRY_DAYS,
//   default 365 days); stored and shown in UTC as YYYY-MM-DDTHH:mm:ss.sssZ.
// The structural half (EXPIRES_AT_PATTERN) is checked by the request schema and published with it in
// openapi.json and the bazaar declaration. The time-relative half (expiryProblem) needs the clock and
// the configured limit, so the route checks it, still before any 402 challenge.
// This module imports nothing from ./schema: the schema imports it.

export const MIN_EXPIRY_LEAD_MS = 5 * 60 * 1000;
const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
/** POLL_MAX_EXPIRY_DAYS's default (src/config.ts): what deployment-neutral texts (openapi.json) state. */
export const DEFAULT_MAX_EXPIRY_DAYS = 365;
export const DEFAULT_MAX_EXPIRY_LEAD_MS = DEFAULT_MAX_EXPIRY_DAYS * DAY_MS;

/**
 * What a stored expiresAt looks like. Timestamps are compared as text (SQLite, cursors), so anything
 * else (a 6-digit "+010000-…" year) would sort wrong and kill the poll on arrival.
 */
const STORED_FORM = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** An ISO 8601 date-time with a 4-digit year, seconds and a zone (zod's date-time checks the calendar). */
const SHAPE = "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$";
/** The two days where an offset could carry a 4-digit year out of 4 digits, without such offsets. */
const EDGE_DAYS = "(?!9999-12-31T.*-)(?!0000-01-01T.*\\+)";

/**
 * The shape of an acceptable expiresAt, as a JSON Schema pattern. zod's date-time check already
 * refuses 5+-digit and expanded (±YYYYYY) years and impossible dates; this adds what it cannot see,
 * a 4-digit year that leaves 4 digits in UTC. Only 9999-12-31 with a negative offset and 0000-01-01
 * with a positive one can, and a pattern cannot add offsets, so those two days take no such offset at
 * all (not even -00:00 / +00:00): every instant on them is centuries outside the time window anyway.
 */
export const EXPIRES_AT_PATTERN = `^${EDGE_DAYS}${SHAPE}`;
const EXPIRES_AT_SHAPE = new RegExp(EXPIRES_AT_PATTERN);
const PLAIN_SHAPE = new RegExp(`^${SHAPE}`);

export const EXPIRES_AT_FORMAT_MESSAGE =
  "must be an ISO 8601 timestamp with a 4-digit year, seconds and a zone: YYYY-MM-DDTHH:mm:ss[.sss] then Z or ±HH:MM";
export const EXPIRES_AT_YEAR_MESSAGE =
  "must keep a 4-digit year in UTC: 9999-12-31 takes no negative offset, 0000-01-01 no positive one";

/** True when `expiresAt` has the shape EXPIRES_AT_PATTERN describes (the calendar is zod's part). */
export function hasExpiryShape(expiresAt: string): boolean {
  return EXPIRES_AT_SHAPE.test(expiresAt);
}

/** The limit in words: "365 days", "1 day". */
export function expiryLimitText(maxLeadMs: number): string {
  const days = maxLeadMs / DAY_MS;
  return `${days} day${days === 1 ? "" : "s"}`;
}

/** The time window in words, as every message and document states it. */
export function expiryWindowText(maxLeadMs: number): string {
  return `more than ${MIN_EXPIRY_LEAD_MS / 60_000} minutes and at most ${expiryLimitText(maxLeadMs)} in the future`;
}

/**
 * The request schema's description, in openapi.json and the bazaar declaration: the same for every
 * deployment, and short, since every 402 carries it twice (the pattern says the rest of the shape).
 */
export const EXPIRES_AT_DESCRIPTION =
  `4-digit year, also in UTC; ${expiryWindowText(DEFAULT_MAX_EXPIRY_LEAD_MS)} (default limit; /agents.md ` +
  `has this deployment's). Stored in UTC.`;

/** How a poll's expiresAt reads back (GET /api/v1/polls/{id}). */
export const STORED_EXPIRY_DESCRIPTION = "In UTC: YYYY-MM-DDTHH:mm:ss.sssZ.";

/**
 * Why `expiresAt` is not acceptable at `nowMs`, or undefined when it is: the text after "expiresAt: ".
 * The window is inclusive at the far end: exactly `maxLeadMs` ahead is accepted, exactly 5 minutes is not.
 */
export function expiryProblem(expiresAt: string, nowMs: number, maxLeadMs: number): string | undefined {
  const at = Date.parse(expiresAt);
  // The schema checked the shape already; checked again so that "no problem" always means storable.
  if (!PLAIN_SHAPE.test(expiresAt) || !Number.isFinite(at)) return EXPIRES_AT_FORMAT_MESSAGE;
  if (!hasExpiryShape(expiresAt) || !STORED_FORM.test(new Date(at).toISOString())) return EXPIRES_AT_YEAR_MESSAGE;
  if (at <= nowMs + MIN_EXPIRY_LEAD_MS || at > nowMs + maxLeadMs) return `must be ${expiryWindowText(maxLeadMs)}`;
  return undefined;
}

/** The instant as stored and shown: UTC, 4-digit year, milliseconds (2027-01-15T12:00:00.000Z). */
export function normalizeExpiry(expiresAt: string): string {
  const at = Date.parse(expiresAt);
  const stored = Number.isFinite(at) ? new Date(at).toISOString() : "";
  // Reaching this with an unstorable value is a bug upstream: refuse rather than store a dead poll.
  if (!STORED_FORM.test(stored)) throw new RangeError(`expiresAt ${JSON.stringify(expiresAt)} has no storable UTC form`);
  return stored;
}

/** How far ahead example bodies expire (capped by the limit). */
const EXAMPLE_LEAD_MS = 30 * DAY_MS;

/**
 * The expiresAt of the example bodies served live (402/quote bazaar example, /agents.md): a whole UTC
 * day plus 30 days (or the limit, when shorter), so every process and isolate serves the same value all
 * day and a challenge built once stays valid for weeks. With a one-day limit, the day's start plus a
 * day can be within 5 minutes of now (just before midnight): then the hour's start is used.
 * Assumes `maxLeadMs` is at least a day (POLL_MAX_EXPIRY_DAYS ≥ 1).
 */
export function exampleExpiresAt(nowMs: number, maxLeadMs: number): string {
  const lead = Math.min(EXAMPLE_LEAD_MS, maxLeadMs);
  const fromDay = Math.floor(nowMs / DAY_MS) * DAY_MS + lead;
  const at = fromDay > nowMs + MIN_EXPIRY_LEAD_MS ? fromDay : Math.floor(nowMs / HOUR_MS) * HOUR_MS + lead;
  return new Date(at).toISOString();
}
