// Read tokens are HMACs of the poll id: reproducible for the webhook body, different per poll and
// per secret, UUID-shaped, and compared in constant time (never by ===).
import { describe, expect, it } from "vitest";
import { createReadTokens } from "../src/polls/read-token";

const secret = "s".repeat(32);

describe("read tokens", () => {
  it("are reproducible, UUID v4-shaped and differ per poll and per secret", () => {
    const tokens = createReadTokens(secret);
    const a = tokens.tokenFor("poll-a");
    expect(a).toBe(tokens.tokenFor("poll-a"));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(tokens.tokenFor("poll-b")).not.toBe(a);
    expect(createReadTokens("t".repeat(32)).tokenFor("poll-a")).not.toBe(a);
  });

  it("match only the right poll, case- and whitespace-insensitively", () => {
    const tokens = createReadTokens(secret);
    const a = tokens.tokenFor("poll-a");
    expect(tokens.matches("poll-a", a)).toBe(true);
    expect(tokens.matches("poll-a", ` ${a.toUpperCase()} `)).toBe(true);
    expect(tokens.matches("poll-b", a)).toBe(false);
    expect(tokens.matches("poll-a", "")).toBe(false);
    expect(tokens.matches("poll-a", a.slice(0, -1))).toBe(false);
    expect(tokens.matches("poll-a", `${a}0`)).toBe(false);
  });

  it("refuse a short secret", () => {
    expect(() => createReadTokens("short")).toThrow();
  });
});
