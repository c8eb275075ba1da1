// Voter payouts: the rewards ledger turned into USDC transfers from the payout wallet, the routes voters
// use to see and ask for them, and the rule on which payout addresses can be paid at all. Other features
// and the composition roots use payouts through this file only.
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
