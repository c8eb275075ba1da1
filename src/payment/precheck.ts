// Refusals that need no facilitator call. Every /verify costs a call on the operator's facilitator key,
// so the checks the official exact-EVM facilitator makes from the payload alone (@x402/evm
// verifyEIP3009) run here first, with its own reason strings, so a client sees the same reason either way.
//
// Order: the comparisons with our requirements (network, recipient, time window, value) in the
// facilitator's own relative order, then the signature. For a payload with a valid signature our reason
// is therefore exactly the facilitator's. A tampered `to` or `value` also breaks the signature; naming
// the mismatched field is the more useful answer there (whatever else is wrong, that field must change,
// and a signature error would send a client with a stale challenge to debug its signer), and it is
// found without a secp256k1 recovery.
import { recoverTypedDataAddress, type Address } from "viem";
import { authorizationTypes } from "@x402/evm";
import type { PresentedAuthorization } from "./authorization";
import type { UsdcAsset } from "./networks";

export interface ExpectedPayment {
  chainId: number;
  asset: Pick<UsdcAsset, "address" | "name" | "version">;
  payTo: string;
  amountAtomic: bigint;
  nowSeconds: number;
  /**
   * Whether `address` has contract code (eth_getCode on our own RPC, not the facilitator). Asked only
   * when a signature of 65 bytes or fewer does not recover to `from`: the facilitator then asks the
   * wallet contract (ERC-1271; a Safe's owner signature is 65 bytes and recovers to the owner). Without
   * it such a signature is refused.
   */
  hasCode?: (address: Address) => Promise<boolean>;
}

export interface PaymentRefusal {
  /** x402-style reason, e.g. invalid_exact_evm_signature. */
  reason: string;
  message: string;
}

/** The official facilitator's reason strings (@x402/evm exact facilitator errors; not exported by it). */
export const EXACT_EVM_REASONS = {
  networkMismatch: "invalid_exact_evm_network_mismatch",
  recipientMismatch: "invalid_exact_evm_recipient_mismatch",
  validBefore: "invalid_exact_evm_payload_authorization_valid_before",
  validAfter: "invalid_exact_evm_payload_authorization_valid_after",
  valueMismatch: "invalid_exact_evm_payload_authorization_value_mismatch",
  signature: "invalid_exact_evm_signature",
} as const;

/** The facilitator refuses an authorization expiring within this many seconds (time to land on chain). */
const VALID_BEFORE_MARGIN_SECONDS = 6n;
/** r, s, v: the only length ecrecover accepts; longer ones are smart-wallet (ERC-1271/6492) signatures. */
const ECDSA_SIGNATURE_BYTES = 65;

/** Why this payment can be refused without asking the facilitator, or undefined. */
export async function precheckPayment(presented: PresentedAuthorization, expected: ExpectedPayment): Promise<PaymentRefusal | undefined> {
  const { message } = presented;
  const now = BigInt(Math.floor(expected.nowSeconds));
  if (presented.network !== `eip155:${expected.chainId}`) {
    return refuse("networkMismatch", `The payment is for ${presented.network}, not eip155:${expected.chainId}.`);
  }
  if (message.to.toLowerCase() !== expected.payTo.toLowerCase()) {
    return refuse("recipientMismatch", "The authorization pays another address than this service's payTo.");
  }
  if (message.validBefore < now + VALID_BEFORE_MARGIN_SECONDS) {
    return refuse("validBefore", "The authorization has expired (validBefore): sign a new one.");
  }
  if (message.validAfter > now) {
    return refuse("validAfter", "The authorization is not valid yet (validAfter is in the future).");
  }
  if (message.value !== expected.amountAtomic) {
    return refuse("valueMismatch", `The authorization is for ${message.value} atomic units; this poll costs ${expected.amountAtomic}.`);
  }
  if (!(await signatureMayBeValid(presented, expected))) {
    return refuse("signature", "The signature does not match the authorization and its payer.");
  }
  return undefined;
}

function refuse(key: keyof typeof EXACT_EVM_REASONS, message: string): PaymentRefusal {
  return { reason: EXACT_EVM_REASONS[key], message };
}

/** False only when the signature is certainly wrong; smart-wallet signatures are the facilitator's to judge. */
async function signatureMayBeValid(presented: PresentedAuthorization, expected: ExpectedPayment): Promise<boolean> {
  const bytes = (presented.signature.length - 2) / 2;
  if (bytes > ECDSA_SIGNATURE_BYTES) return true;
  if (bytes === ECDSA_SIGNATURE_BYTES && (await recoversToPayer(presented, expected))) return true;
  if (!expected.hasCode) return false;
  try {
    return await expected.hasCode(presented.message.from);
  } catch {
    // Unknown is not a refusal: a lost refusal costs one verify call, a wrong one loses a payer.
    return true;
  }
}

async function recoversToPayer(presented: PresentedAuthorization, expected: ExpectedPayment): Promise<boolean> {
  try {
    const signer = await recoverTypedDataAddress({
      domain: {
        name: expected.asset.name,
        version: expected.asset.version,
        chainId: expected.chainId,
        verifyingContract: expected.asset.address,
      },
      types: authorizationTypes,
      primaryType: "TransferWithAuthorization",
      message: presented.message,
      signature: presented.signature,
    });
    return signer.toLowerCase() === presented.message.from.toLowerCase();
  } catch {
    // Values outside uint256 or an invalid curve point: the facilitator counts these as bad signatures.
    return false;
  }
}
