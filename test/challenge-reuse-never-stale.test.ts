// An unpaid POST /api/v1/polls whose body was already priced is answered from the remembered verdict
// (issue 8: identical challenges are not rebuilt, nor their bodies re-validated). The promise guarded
// here: the shortcut never answers what a full check would refuse — a body whose expiresAt has since
// come too close, a body sent as another media type, a body that differs by a byte — and never stands
// in for the payment checks of a request that carries a PAYMENT-SIGNATURE.
import { decodePaymentRequiredHeader } from "@x402/core/http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testClock } from "./support/clock";
import { pollBody, startLocalService, type LocalService } from "./support/harness";

let service: LocalService;
const clock = testClock();

beforeAll(async () => {
  service = await startLocalService({}, { now: clock.now });
});
afterAll(async () => {
  await service?.stop();
});

function post(body: string, headers: Record<string, string> = {}) {
  return fetch(`${service.url}/api/v1/polls`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

describe("an unpaid body priced before", () => {
  it("gets the very same challenge again, in a response of its own", async () => {
    const body = JSON.stringify(pollBody({ maxResponses: 300 }));
    const first = await post(body);
    const second = await post(body);
    expect(first.status).toBe(402);
    expect(second.status).toBe(402);
    expect(await second.text()).toBe(await first.text());
    expect(second.headers.get("payment-required")).toBe(first.headers.get("payment-required"));
    expect(decodePaymentRequiredHeader(second.headers.get("payment-required")!).accepts[0]?.amount).toBe("1500000");
    expect(second.headers.get("x-request-id")).not.toBe(first.headers.get("x-request-id"));
    expect(second.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("is refused once its expiresAt has come within 5 minutes, as a fresh body would be", async () => {
    const body = JSON.stringify(pollBody({ expiresAt: new Date(clock.now().getTime() + 10 * 60_000).toISOString() }));
    expect((await post(body)).status).toBe(402);
    clock.advance(6 * 60_000);
    try {
      const later = await post(body);
      expect(later.status).toBe(400);
      expect(later.headers.get("payment-required")).toBeNull();
      expect(await later.json()).toMatchObject({ error: { code: "validation_error", param: "expiresAt" } });
    } finally {
      clock.advance(-6 * 60_000);
    }
  });

  it("is refused with 415 when sent as another media type", async () => {
    const body = JSON.stringify(pollBody());
    expect((await post(body)).status).toBe(402);
    const asText = await post(body, { "content-type": "text/plain" });
    expect(asText.status).toBe(415);
    expect(await asText.json()).toMatchObject({ error: { code: "unsupported_media_type" } });
  });

  it("does not vouch for a body that differs from it", async () => {
    const valid = pollBody({ maxResponses: 200 });
    expect((await post(JSON.stringify(valid))).status).toBe(402);
    const tooFew = await post(JSON.stringify({ ...valid, maxResponses: 99 }));
    expect(tooFew.status).toBe(400);
    expect(await tooFew.json()).toMatchObject({ error: { code: "validation_error", param: "maxResponses" } });
  });

  it("never stands in for the payment checks of a paid request with the same body", async () => {
    const body = JSON.stringify(pollBody({ maxResponses: 400 }));
    expect((await post(body)).status).toBe(402);
    const paid = await post(body, { "payment-signature": "not-a-payment" });
    expect(paid.status).toBe(402);
    expect(await paid.json()).toMatchObject({ error: "invalid_payment_payload" });
  });
});
