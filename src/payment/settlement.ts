// Deciding a claim: the facilitator's answer is a hint, the chain is the evidence. A poll is paid when a
// mined transaction moved exactly the claimed amount from the payer to us under the claimed authorization
// (whoever submitted it); a claim fails only when its authorization can no longer move money, or when the
// facilitator definitively refused it before broadcasting and the chain agrees nothing moved. Anything
// else leaves the claim open for reconciliation: never a failure for money that may still move.
import type { SettleResponse } from "@x402/core/types";
import type { PaymentRow } from "../db/schema";
import type { Store } from "../db/store";
import type { AuthorizationEvidence, ChainReader, ClaimedTransfer } from "./chain-reader";

/** What the facilitator said about a settlement, reduced to what it can tell us. */
export type FacilitatorAnswer =
  /** It reports success with a transaction: to be confirmed on chain. */
  | { kind: "settled"; txHash: string }
  /** A JSON answer refusing the payment before broadcast (an invalid_* reason, no transaction). */
  | { kind: "rejected"; reason: string }
  /** settlement_pending, an error status, an unreadable answer, a timeout, a dropped connection. */
  | { kind: "unknown"; reason: string; txHash?: string };

export type ClaimDecision =
  | { state: "active"; txHash: string }
  | { state: "failed"; reason: string }
  /** `authorizationUnused`: the chain shows the authorization unused and still valid (it could be settled again). */
  | { state: "open"; reason: string; txHash?: string; authorizationUnused?: boolean };

export interface SettlementDeps {
  store: Store;
  /** One reader per network id; a claim on a network without one can only be decided by a definitive refusal. */
  chains: ReadonlyMap<string, ChainReader>;
  now: () => Date;
  log: (message: string) => void;
  /** How long to wait for the receipt of a transaction the facilitator reported. */
  confirmWaitMs?: number;
}

/** Margin after validBefore before an unused authorization is called dead (block time trails wall time). */
export const EXPIRY_MARGIN_SECONDS = 60;
const DEFAULT_CONFIRM_WAIT_MS = 10_000;
const TX_HASH = /^0x[0-9a-fA-F]{64}$/;

/** Refusals that can only come before a broadcast: the facilitator's verification said no. */
function isDefinitiveRefusal(reason: string): boolean {
  return reason.startsWith("invalid_") || reason === "insufficient_funds";
}

/**
 * Reduces the payment middleware's outcome to a FacilitatorAnswer: `settlement` is the decoded
 * PAYMENT-RESPONSE header (absent when the facilitator threw without a structured answer).
 */
export function facilitatorAnswerOf(settlement: SettleResponse | undefined): FacilitatorAnswer {
  if (!settlement) return { kind: "unknown", reason: "facilitator_error" };
  const txHash = TX_HASH.test(settlement.transaction ?? "") ? settlement.transaction : undefined;
  if (settlement.success) return txHash ? { kind: "settled", txHash } : { kind: "unknown", reason: "settled_without_transaction" };
  const reason = (settlement.errorReason || "settlement_failed").slice(0, 200);
  if (!txHash && isDefinitiveRefusal(reason)) return { kind: "rejected", reason };
  return txHash ? { kind: "unknown", reason, txHash } : { kind: "unknown", reason };
}

export function claimedTransferOf(claim: PaymentRow): ClaimedTransfer {
  return { asset: claim.asset, payer: claim.payer, payTo: claim.pay_to, nonce: claim.nonce, amountAtomic: claim.amount_atomic };
}

/** Decides a claim from the chain (and the facilitator's answer, if there was one). Writes nothing. */
export async function decideClaim(
  deps: Pick<SettlementDeps, "chains" | "now" | "log" | "confirmWaitMs">,
  claim: PaymentRow,
  answer?: FacilitatorAnswer,
): Promise<ClaimDecision> {
  const chain = deps.chains.get(claim.network);
  if (!chain) {
    // Nothing can ever confirm a transfer here; only a definitive refusal is final.
    return answer?.kind === "rejected" ? { state: "failed", reason: answer.reason } : { state: "open", reason: "no_chain_reader" };
  }
  const hintTxHash = answer && answer.kind !== "rejected" ? answer.txHash : undefined;
  let evidence: AuthorizationEvidence;
  try {
    evidence = await chain.authorizationEvidence(claimedTransferOf(claim), {
      ...(hintTxHash ? { txHash: hintTxHash } : {}),
      waitMs: hintTxHash ? (deps.confirmWaitMs ?? DEFAULT_CONFIRM_WAIT_MS) : 0,
    });
  } catch (error) {
    deps.log(`payment: could not read ${claim.network} for poll ${claim.poll_id}: ${error instanceof Error ? error.message : String(error)}`);
    return { state: "open", reason: "chain_unreachable", ...(hintTxHash ? { txHash: hintTxHash } : {}) };
  }
  switch (evidence.kind) {
    case "transferred":
      return { state: "active", txHash: evidence.txHash };
    case "transfer_mismatch":
      return { state: "failed", reason: "transfer_mismatch" };
    case "canceled":
      return { state: "failed", reason: "authorization_canceled" };
    case "used_unlocated":
      return { state: "open", reason: "authorization_used_unlocated" };
    case "unused": {
      if (answer?.kind === "rejected") return { state: "failed", reason: answer.reason };
      const nowSeconds = Math.floor(deps.now().getTime() / 1000);
      if (nowSeconds > claim.valid_before + EXPIRY_MARGIN_SECONDS) return { state: "failed", reason: "authorization_expired_unused" };
      return {
        state: "open",
        reason: answer?.kind === "unknown" ? answer.reason : answer?.kind === "settled" ? "settled_not_confirmed" : "awaiting_settlement",
        authorizationUnused: true,
        ...(hintTxHash ? { txHash: hintTxHash } : {}),
      };
    }
  }
}
