// Which facilitator verifies and settles payments: an explicit X402_FACILITATOR_URL wins, otherwise
// the CDP facilitator authenticated with the CDP API key. (Local mode passes its in-process one.)
import { HTTPFacilitatorClient, type FacilitatorClient } from "@x402/core/server";
import { createFacilitatorConfig } from "@coinbase/x402";

export interface FacilitatorSettings {
  facilitatorUrl: string | undefined;
  cdpApiKeyId: string | undefined;
  cdpApiKeySecret: string | undefined;
  facilitatorTimeoutMs?: number;
}

export function remoteFacilitator(settings: FacilitatorSettings): FacilitatorClient | undefined {
  const timeoutMs = settings.facilitatorTimeoutMs ?? 30_000;
  if (settings.facilitatorUrl) {
    return new HTTPFacilitatorClient({ url: settings.facilitatorUrl, timeoutMs });
  }
  if (settings.cdpApiKeyId && settings.cdpApiKeySecret) {
    return new HTTPFacilitatorClient({
      ...createFacilitatorConfig(settings.cdpApiKeyId, settings.cdpApiKeySecret),
      timeoutMs,
    });
  }
  return undefined;
}
