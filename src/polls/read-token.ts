// Read tokens are never stored: each is an HMAC of the poll id under a server secret, formatted as a
// UUID, so it can be produced again when the contract needs it (the webhook body) and checked in
// constant time without a database lookup.
import { createHmac, createSecretKey, timingSafeEqual } from "node:crypto";
import { BoundedMap } from "../lib/bounded-map";

/** Tokens remembered per ReadTokens instance. */
const RECENT_TOKENS = 1024;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface ReadTokens {
  tokenFor(pollId: string): string;
  /** Constant-time check of a presented token against the poll's. */
  matches(pollId: string, presented: string): boolean;
}

export function createReadTokens(secret: string): ReadTokens {
  if (secret.length < 32) throw new Error("read token secret must be at least 32 characters");
  // The same key bytes as the string (UTF-8), imported once: every vote's outbox statement derives a token.
  const key = createSecretKey(Buffer.from(secret, "utf8"));
  // The outbox derives the poll's token for every vote's batch: the latest polls' tokens are remembered.
  const recent = new BoundedMap<string, string>(RECENT_TOKENS);
  const tokenFor = (pollId: string) => recent.getOrSet(pollId, () => deriveToken(pollId));
  const deriveToken = (pollId: string) => {
    const digest = createHmac("sha256", key).update(`quali/read-token/v1:${pollId}`).digest();
    const bytes = digest.subarray(0, 16);
    // Shape it as an RFC 9562 version-4 UUID so clients that validate UUIDs accept it.
    bytes[6] = (bytes[6]! & 0x0f) | 0x40;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const hex = bytes.toString("hex");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
  return {
    tokenFor,
    matches(pollId, presented) {
      const candidate = presented.trim().toLowerCase();
      if (!UUID_PATTERN.test(candidate)) return false;
      return timingSafeEqual(Buffer.from(tokenFor(pollId)), Buffer.from(candidate));
    },
  };
}
