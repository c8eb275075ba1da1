// The events of GET /api/v1/polls/{id}/events, as values and as text/event-stream bytes: which events a
// stream sends given what its client has seen and what the poll says now, and how they are written and
// read back. Pure and a leaf (zod only), so the typed client and browser code can use the same shapes.
//
// Every event is a snapshot of the poll's counters, not a delta, so a client that skipped some loses
// nothing. Ids: a `progress` event's id is its voteCount; the terminal event's id is voteCount + 1, so
// it sorts after every progress event of the poll. A vote count never decreases and a final status never
// changes, so "send what has an id above Last-Event-ID" resumes without gaps or repeats.
import { z } from "@hono/zod-openapi";

export const ProgressEventData = z
  .object({
    pollId: z.string(),
    status: z.string().openapi({ description: "The poll's status when the event was sent: `active`, or a final status." }),
    voteCount: z.number().int(),
    maxResponses: z.number().int(),
  })
  .openapi("PollProgressEvent");

export const TerminalEventData = ProgressEventData.extend({
  completedAt: z
    .string()
    .nullable()
    .openapi({ description: "When the poll stopped taking votes: completion time, or for `expired` its expiresAt." }),
}).openapi("PollTerminalEvent");

export type ProgressEventData = z.infer<typeof ProgressEventData>;
export type TerminalEventData = z.infer<typeof TerminalEventData>;

/** What the stream knows of a poll at one moment. `status` is read generically: anything but `active` is final. */
export interface PollProgress {
  pollId: string;
  status: string;
  voteCount: number;
  maxResponses: number;
  completedAt: string | null;
}

export interface StreamEvent {
  /** `progress`, or the poll's final status (`completed`, `expired`, …). */
  event: string;
  id: number;
  data: ProgressEventData | TerminalEventData;
}

export const isFinal = (status: string) => status !== "active";

/** The id of the event after which nothing more is ever sent for this poll (only once it is final). */
export const terminalId = (progress: Pick<PollProgress, "voteCount">) => progress.voteCount + 1;

/** The highest id an event of this poll can have had by now. */
export const highestIdSoFar = (progress: PollProgress) => (isFinal(progress.status) ? terminalId(progress) : progress.voteCount);

const DECIMAL_ID = /^\d{1,15}$/;

/**
 * Last-Event-ID as a position in this poll's events, or undefined when it cannot be one (absent, not a
 * decimal id, or above anything this poll has sent): the stream then starts from the current state, which
 * is a full snapshot, so nothing is lost by ignoring it.
 */
export function resumePosition(header: string | undefined, progress: PollProgress): number | undefined {
  const text = header?.trim();
  if (!text || !DECIMAL_ID.test(text)) return undefined;
  const id = Number(text);
  return id <= highestIdSoFar(progress) ? id : undefined;
}

/**
 * The events to send now to a client that has seen everything up to `seen` (undefined: nothing): a
 * `progress` event when the vote count passed `seen`, then, once the poll is final, the terminal event.
 */
export function eventsAfter(seen: number | undefined, progress: PollProgress): { events: StreamEvent[]; seen: number | undefined; ended: boolean } {
  const { pollId, status, voteCount, maxResponses } = progress;
  const events: StreamEvent[] = [];
  const after = seen ?? -1;
  if (voteCount > after) events.push({ event: "progress", id: voteCount, data: { pollId, status, voteCount, maxResponses } });
  const ended = isFinal(status);
  if (ended && terminalId(progress) > after) {
    events.push({ event: status, id: terminalId(progress), data: { pollId, status, voteCount, maxResponses, completedAt: progress.completedAt } });
  }
  return { events, seen: events.length > 0 ? events[events.length - 1]!.id : seen, ended };
}

/** One event on the wire (the data is one line of JSON: JSON.stringify never writes a newline). */
export function encodeEvent(event: StreamEvent): string {
  return `event: ${event.event}\nid: ${event.id}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/** The reconnection delay a client should use (EventSource reads it; the results page too). */
export const encodeRetry = (ms: number) => `retry: ${ms}\n\n`;

/** A comment line: ignored by every client, it keeps proxies from closing a quiet connection. */
export const encodeComment = (text: string) => `: ${text}\n\n`;
