// The payment feature: x402 challenges and verification (payment-server), the quote route, pricing,
// networks, and deciding a claim from the chain. Used by others through this file only.
export { readAuthorization, type PresentedAuthorization, type TransferAuthorization } from "./authorization";
export { evidenceFromReceipt, viemChainReader, type AuthorizationEvidence, type ChainReader, type ChainReaderOptions, type ClaimedTransfer } from "./chain-reader";
export { remoteFacilitator, type FacilitatorSettings } from "./facilitator";
export {
  BASE,
  BASE_SEPOLIA,
  devnetNetwork,
  PRODUCTION_NETWORKS,
  resolveNetworkAlias,
  WORLD_CHAIN,
  WORLD_CHAIN_SEPOLIA,
  type EnabledNetwork,
  type NetworkId,
  type NetworkSpec,
  type UsdcAsset,
} from "./networks";
export { presentedIdentifier, type PresentedIdentifier } from "./payment-identifier";
export { createPaymentServer, type Challenge, type PaymentServer, type PaymentServerOptions, type ServiceMetadata } from "./payment-server";
export {
  findLiveClaim,
  findLiveClaimByIdentifier,
  findOpenClaims,
  findPayment,
  insertClaim,
  markAnswered,
  markClaimFailed,
  markClaimSettled,
  type NewClaim,
} from "./payments-repo";
export { EXACT_EVM_REASONS, precheckPayment, type ExpectedPayment, type PaymentRefusal } from "./precheck";
export {
  FEE_PER_RESPONSE_ATOMIC,
  formatUsdc,
  parseUsdc,
  pollPrice,
  PRICE_PER_RESPONSE_ATOMIC,
  REWARD_PER_VOTE_ATOMIC,
  USDC_DECIMALS,
  usdcNumber,
  type PollPrice,
} from "./pricing";
export { QuoteResponse, quoteRoutes, type QuoteDeps } from "./quote";
export {
  claimedTransferOf,
  decideClaim,
  EXPIRY_MARGIN_SECONDS,
  facilitatorAnswerOf,
  type ClaimDecision,
  type FacilitatorAnswer,
  type SettlementDeps,
} from "./settlement";
export { isStockClientAsset, MCP_MAX_PER_DAY_SETTING, MCP_MAX_PER_POLL_SETTING, spendCapNotice, STOCK_CLIENT_MAX_ATOMIC } from "./spend-caps";
