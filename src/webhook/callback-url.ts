// The delivery-time check on Node: the callback URL rule (src/lib/public-url.ts), then the host is
// resolved with the system resolver and, in production, refused if ANY resolved address is non-public
// (loopback, private, link-local, CGNAT, cloud metadata, multicast, reserved, and IPv6 forms that embed
// such an IPv4 address). The caller connects to the vetted addresses only (src/webhook/transport.ts pins
// them), so a DNS answer that changes between the check and the connection (rebinding) cannot bypass it.
// Redirects are never followed.
import { lookup } from "node:dns/promises";
import type { Mode } from "../config";
import { checkDeliverableUrl, type DeliverableTarget, type Resolver } from "./url-policy";

export {
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
