// A voter as the public HTTP API sees one, with the simulated World ID of local mode: pick an option,
// ask for a World ID request, get a simulated proof for a simulated human, cast the vote. Used by
// `npm run simulate-voters` and by the tests.
import { keccak256, toBytes } from "viem";

export interface ApiAnswer<T = unknown> {
  status: number;
  body: T;
}

export interface ErrorEnvelope {
  error: { code: string; message: string; param?: string; details?: Record<string, unknown> };
}

export interface VoterPollView {
  id: string;
  status: "active" | "completed" | "expired";
  question: string;
  options: { id: string; text: string; mediaUrl: string | null }[];
  voteCount: number;
  maxResponses: number;
  expiresAt: string;
  reward: { network: string; networkLabel: string; perVoteUsdc: number; perVoteAtomic: string };
}

export interface WorldIdRequestView {
  pollId: string;
  optionId: string;
  payoutAddress: string;
  nonce: string;
  signal: string;
  signalHash: string;
  expiresAt: string;
  simulated: boolean;
  idkit: {
    app_id: string;
    action: string;
    rp_context: { rp_id: string; nonce: string; created_at: number; expires_at: number; signature: string };
    allow_legacy_proofs: boolean;
    environment: string;
  };
}

export interface Demographics {
  country?: string | null;
  ageBand?: string | null;
}

async function call<T>(url: string, init?: RequestInit): Promise<ApiAnswer<T>> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, body: body as T };
}

const postJson = <T>(url: string, body: unknown) =>
  call<T>(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** A stable payout address for a simulated human (the last 20 bytes of keccak(seed)). */
export function payoutAddressFor(human: string): string {
  return `0x${keccak256(toBytes(`quali-simulated-payout:${human}`)).slice(-40)}`;
}

export function getVoterPoll(baseUrl: string, pollId: string) {
  return call<VoterPollView | ErrorEnvelope>(`${baseUrl}/api/v1/voter/polls/${pollId}`);
}

export function requestWorldId(baseUrl: string, pollId: string, optionId: string, payoutAddress: string) {
  return postJson<WorldIdRequestView | ErrorEnvelope>(`${baseUrl}/api/v1/polls/${pollId}/world-id-request`, { optionId, payoutAddress });
}

export function simulatedProof(baseUrl: string, request: WorldIdRequestView, human: string) {
  return postJson<Record<string, unknown> | ErrorEnvelope>(`${baseUrl}/api/v1/voter/simulated-proof`, {
    action: request.idkit.action,
    signal: request.signal,
    rpContext: request.idkit.rp_context,
    human,
  });
}

export function castVote(
  baseUrl: string,
  pollId: string,
  vote: { optionId: string; payoutAddress: string; proof: unknown; demographics?: Demographics | null; shownOrder?: string[] },
) {
  return postJson<Record<string, unknown> | ErrorEnvelope>(`${baseUrl}/api/v1/polls/${pollId}/votes`, vote);
}

export interface PreparedVote {
  human: string;
  optionId: string;
  payoutAddress: string;
  request: WorldIdRequestView;
  proof: Record<string, unknown>;
  shownOrder?: string[];
  demographics?: Demographics | null;
}

/** Steps 1–2 of a vote (request + simulated proof); the failing answer if one step fails. */
export async function prepareVote(
  baseUrl: string,
  input: { pollId: string; optionId: string; human: string; payoutAddress?: string; shownOrder?: string[]; demographics?: Demographics | null },
): Promise<{ prepared: PreparedVote } | { failed: ApiAnswer }> {
  const payoutAddress = input.payoutAddress ?? payoutAddressFor(input.human);
  const request = await requestWorldId(baseUrl, input.pollId, input.optionId, payoutAddress);
  if (request.status !== 200) return { failed: request };
  const proof = await simulatedProof(baseUrl, request.body as WorldIdRequestView, input.human);
  if (proof.status !== 200) return { failed: proof };
  return {
    prepared: {
      human: input.human,
      optionId: input.optionId,
      payoutAddress,
      request: request.body as WorldIdRequestView,
      proof: proof.body as Record<string, unknown>,
      ...(input.shownOrder ? { shownOrder: input.shownOrder } : {}),
      ...(input.demographics !== undefined ? { demographics: input.demographics } : {}),
    },
  };
}

export function submitPrepared(baseUrl: string, prepared: PreparedVote) {
  return castVote(baseUrl, prepared.request.pollId, {
    optionId: prepared.optionId,
    payoutAddress: prepared.payoutAddress,
    proof: prepared.proof,
    ...(prepared.shownOrder ? { shownOrder: prepared.shownOrder } : {}),
    ...(prepared.demographics !== undefined ? { demographics: prepared.demographics } : {}),
  });
}

/** A whole vote by one simulated human; returns the answer of the last step reached. */
export async function voteAsSimulatedHuman(
  baseUrl: string,
  input: { pollId: string; optionId: string; human: string; payoutAddress?: string; shownOrder?: string[]; demographics?: Demographics | null },
): Promise<ApiAnswer> {
  const step = await prepareVote(baseUrl, input);
  if ("failed" in step) return step.failed;
  return submitPrepared(baseUrl, step.prepared);
}

export function errorCode(answer: ApiAnswer): string | undefined {
  const body = answer.body as Partial<ErrorEnvelope> | undefined;
  return typeof body?.error?.code === "string" ? body.error.code : undefined;
}
