// Lifecycle-level fixtures for the webhook tests: a real SQLite store (in memory, all migrations), polls
// inserted directly, and the real transition + outbox listener — no chain, no HTTP, so the dispatcher can
// be driven with a fake clock (test/support/clock.ts).
import { randomUUID } from "node:crypto";
import { openSqliteStore, type SqliteStore } from "../../src/db/sqlite";
import { transitionStatements, type ClosedStatus } from "../../src/polls/lifecycle";
import { createReadTokens, type ReadTokens } from "../../src/polls/read-token";
import { webhookOutboxListener } from "../../src/webhook/outbox";
import { createCallbackSecrets, type CallbackSecrets } from "../../src/webhook/signing";

export const TEST_SERVER_SECRET = "test-read-token-secret-0123456789abcdef";
export const PUBLIC_BASE_URL = "https://polls.example.com";

export interface OutboxFixture {
  store: SqliteStore;
  readTokens: ReadTokens;
  callbackSecrets: CallbackSecrets;
  /** Inserts an active poll (full when `full`, so it can complete). */
  insertPoll(options: { callbackUrl: string | null; full?: boolean; maxResponses?: number; expiresAt?: string }): Promise<string>;
  /** Runs the real transition batch with the outbox listener; true when the transition happened. */
  transition(pollId: string, to: ClosedStatus, at: Date): Promise<boolean>;
  close(): Promise<void>;
}

export function outboxFixture(): OutboxFixture {
  const store = openSqliteStore(":memory:");
  const readTokens = createReadTokens(TEST_SERVER_SECRET);
  const callbackSecrets = createCallbackSecrets(TEST_SERVER_SECRET);
  const listener = webhookOutboxListener({ publicBaseUrl: PUBLIC_BASE_URL, readTokens });
  return {
    store,
    readTokens,
    callbackSecrets,
    async insertPoll({ callbackUrl, full = true, maxResponses = 100, expiresAt = "2099-01-01T00:00:00.000Z" }) {
      const id = randomUUID();
      await store.batch([
        store.db.insertInto("polls").values({
          id,
          status: "active",
          question: "Which name is clearer?",
          description: null,
          more_info_url: null,
          media_url: null,
          media_type: null,
          layout_type: "list",
          max_responses: maxResponses,
          vote_count: full ? maxResponses : Math.floor(maxResponses / 2),
          expires_at: expiresAt,
          callback_url: callbackUrl,
          network: "eip155:31337",
          payer: "0x1111111111111111111111111111111111111111",
          cost_atomic: String(maxResponses * 5000),
          reward_pool_atomic: String(maxResponses * 500),
          fee_atomic: String(maxResponses * 4500),
          created_at: "2026-01-01T00:00:00.000Z",
          activated_at: "2026-01-01T00:00:01.000Z",
          completed_at: null,
        }),
      ]);
      return id;
    },
    async transition(pollId, to, at) {
      const { statements, updateIndex } = transitionStatements(store.db, { pollId, to, at: at.toISOString() }, [listener]);
      const results = await store.batch(statements);
      return (results[updateIndex]?.changes ?? 0) === 1;
    },
    close: () => store.close(),
  };
}

/** Where the webhook tests' frozen clock (test/support/clock.ts) starts. */
export const OUTBOX_CLOCK_START = "2026-11-23T10:00:00.000Z";
