// The message the paying wallet signs to recover a poll's read token (POST /api/v1/polls/{id}/read-token).
// A leaf with no imports: the route checks it and the typed client (src/client) writes it.

export const READ_TOKEN_RECOVERY_FIRST_LINE = "Quali read token recovery";

/** The exact message the paying wallet signs. */
export function readTokenRecoveryMessage(pollId: string, at: Date = new Date()): string {
  return `${READ_TOKEN_RECOVERY_FIRST_LINE}\nPoll: ${pollId}\nTimestamp: ${at.toISOString()}`;
}
