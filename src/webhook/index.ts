// The webhook feature: the outbox listener that enqueues a delivery with the poll's completion or expiry,
// the dispatcher that sends them (core, Node loop, Workers transport), the signatures, the delivery-time
// URL checks, and the deliveries route. Used by others through this file only.
export {
  DEFAULT_TIMEOUT_MS,
  dispatchDue as dispatchDueWith,
  MAX_ATTEMPTS,
  parseRetryAfter,
  RETRY_SCHEDULE_MS,
  retryDelayMs,
  type AttemptErrorKind,
  type DispatchDeps as CoreDispatchDeps,
  type DispatchSummary,
} from "./dispatch-core";
export { fetchTransport, TransportError, type OutgoingDelivery, type Transport, type TransportErrorKind, type TransportResponse } from "./fetch-transport";
export { enqueueDeliveryStatement, webhookOutboxListener, type OutboxListenerDeps } from "./outbox";
export { deliveriesRoutes, documentWebhooks, WebhookBody, WebhookDeliveries, WebhookDelivery, type DeliveriesDeps } from "./routes";
export { CALLBACK_SECRET_PREFIX, contractSignature, createCallbackSecrets, deliveryHeaders, pollSignature, signaturesEqual, type CallbackSecrets } from "./signing";
export {
  checkDeliverableUrl,
  unresolvedDeliverableUrl,
  UndeliverableUrlError,
  type CallbackUrlOptions,
  type DeliverableTarget,
  type DeliverableTargetCheck,
  type ResolvedAddress,
  type Resolver,
} from "./url-policy";
