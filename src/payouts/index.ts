// Outgoing transfers from the payout wallet: voter payouts (the rewards ledger turned into USDC transfers,
// the routes voters use to see and ask for them, the rule on which payout addresses can be paid at all)
// and refunds of unfilled responses, in one queue. Other features and the composition roots use payouts
// through this file only.
export { payoutsRoutes, type PayoutsRoutesDeps } from "./routes";
export {
  nodePayoutAddressPolicy,
  productionPayoutNetworks,
  startPayouts,
  type Payouts,
  type ProductionPayoutNetworkOptions,
  type StartPayoutsOptions,
} from "./setup";
export type { PayoutCrashPoint, PayoutHealth, PayoutLog, PayoutNetwork, PayoutWorker } from "./job";
export { viemPayoutChain } from "./chain";
export { assertPayableAddress, configuredOwnAddresses, payoutAddressPolicy, type PayoutAddressPolicy } from "./address-policy";
export { listParked, releaseParked, retryParked, type ParkedChange } from "./operator";
export { queueOwedRefunds, refundLookup, REFUNDABLE_STATUSES, unfilledRefundAtomic } from "./refunds";
