// Vote ids are version-7 UUIDs: their first 48 bits are the vote's time, so the two indexes keyed by vote
// id (votes, reward_ledger) grow at one end instead of taking a random page per vote (issue 8).
import { describe, expect, it } from "vitest";
import { newVoteId } from "../src/voting/record-vote";

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("vote ids", () => {
  it("are RFC 9562 version-7 UUIDs carrying the vote's time in milliseconds", () => {
    const at = new Date("2026-11-23T10:00:00.123Z");
    const id = newVoteId(at);
    expect(id).toMatch(UUID_V7);
    expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at.getTime());
  });

  it("sort by time, and are unique within one millisecond", () => {
    const start = Date.now();
    const ids = Array.from({ length: 200 }, (_, i) => newVoteId(new Date(start + i)));
    expect([...ids].sort()).toEqual(ids);
    const sameMs = new Set(Array.from({ length: 1000 }, () => newVoteId(new Date(start))));
    expect(sameMs.size).toBe(1000);
  });
});
