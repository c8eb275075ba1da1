// Where a poll may send its webhook (SSRF protection), on Node. The rules are runtime-free and live in
// ./url-policy.ts (shared with the Workers entry); this module adds what only Node has — the system
// resolver — for the delivery-time check:
//
// - at creation (`callbackUrlProblem`, synchronous, no DNS): local mode allows https anywhere and plain
//   http to loopback only (development); production requires https to a public host — no credentials,
//   no IP literal in a non-public range, no single-label or local-suffix names;
// - at every delivery attempt (`assertDeliverableUrl`): the same rule, then the host is resolved and, in
//   production, refused if ANY resolved address is non-public (loopback, private, link-local, CGNAT,
//   cloud metadata, multicast, reserved, and IPv6 forms that embed such an IPv4 address). The caller
//   connects to the vetted addresses only (src/webhook/transport.ts pins them), so a DNS answer that
//   changes between the check and the connection (rebinding) cannot bypass it. Redirects are never
//   followed.
import { lookup } from "node:dns/promises";
import type { Mode } from "../config";
import { checkDeliverableUrl, type DeliverableTarget, type Resolver } from "./url-policy";

export {
  callbackUrlProblem,
  isNonPublicAddress,
  UndeliverableUrlError,
  type CallbackUrlOptions,
  type DeliverableTarget,
  type ResolvedAddress,
  type Resolver,
  type UndeliverableKind,
} from "./url-policy";

export const systemResolver: Resolver = async (hostname) => {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map((answer) => ({ address: answer.address, family: answer.family === 6 ? 6 : 4 }));
};

/**
 * The delivery-time check. Throws UndeliverableUrlError; otherwise returns the addresses to connect to.
 * Production: every resolved address must be public. Local mode: the creation rule only (development
 * receivers live on loopback), but the connection is still pinned to what was resolved here.
 */
export async function assertDeliverableUrl(raw: string, mode: Mode, resolver: Resolver = systemResolver): Promise<DeliverableTarget> {
  return checkDeliverableUrl(raw, mode, resolver);
}
