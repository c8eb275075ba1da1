// Cursor pagination shared by the list endpoints: `?limit=&cursor=` in, `{ <items>, nextCursor }` out.
// A cursor is opaque to clients: base64url of "<created_at>|<id>" of the last item served. Lists are
// ordered by (created_at, id), so items sharing a timestamp are never lost or repeated across pages.
import { ApiError } from "./errors";

export interface CursorPosition {
  createdAt: string;
  id: string;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(`${position.createdAt}|${position.id}`, "utf8").toString("base64url");
}

/** Decodes an opaque cursor; throws 400 invalid_cursor for anything we did not issue. */
export function decodeCursor(raw: string): CursorPosition {
  const invalid = () => new ApiError(400, "invalid_cursor", "cursor is not a cursor this API issued.", "cursor");
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(raw)) throw invalid();
  const text = Buffer.from(raw, "base64url").toString("utf8");
  const bar = text.indexOf("|");
  if (bar < 0) throw invalid();
  const createdAt = text.slice(0, bar);
  const id = text.slice(bar + 1);
  if (!ISO_INSTANT.test(createdAt) || !Number.isFinite(Date.parse(createdAt)) || !/^[0-9a-f-]{36}$/.test(id)) throw invalid();
  return { createdAt, id };
}

/** An ISO 8601 instant, normalised to the stored form (toISOString), or undefined if `raw` is not one. */
export function parseIsoInstant(raw: string): string | undefined {
  if (!ISO_INSTANT.test(raw)) return undefined;
  const ms = Date.parse(raw);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

/** `?limit=`: an integer in [1, max]; `fallback` when absent. */
export function parseLimit(raw: string | undefined, max: number, fallback: number): number {
  if (raw === undefined || raw.trim() === "") return fallback;
  const trimmed = raw.trim();
  const value = /^\d{1,7}$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!(value >= 1 && value <= max)) {
    throw new ApiError(400, "validation_error", `limit must be an integer from 1 to ${max}.`, "limit");
  }
  return value;
}
