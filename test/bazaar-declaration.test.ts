// Crawlers and CDP Bazaar can index POST /api/v1/polls from its 402 alone: the challenge carries valid
// service metadata (serviceName, ≤ 5 tags, a public https iconUrl) and a bazaar declaration that the
// official @x402/extensions validators accept, whose JSON Schema covers the real request body and
// whose example body passes our own validation; @x402/core's PaymentRequiredV2Schema parses the
// decoded header, which stays under 16 KB even with every production network enabled.
import { encodePaymentRequiredHeader, decodePaymentRequiredHeader } from "@x402/core/http";
import { PaymentRequiredV2Schema } from "@x402/core/schemas";
import type { PaymentRequired } from "@x402/core/types";
import {
  extractDiscoveryInfo,
  validateDiscoveryExtension,
  validateDiscoveryExtensionSpec,
  type DiscoveryExtension,
} from "@x402/extensions/bazaar";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { agentClient } from "../scripts/lib/agent";
import { resourceIconUrl } from "../src/discovery/declaration";
import { PRODUCTION_NETWORKS } from "../src/payment/networks";
import { CreatePollBody, CreatePollResponse } from "../src/polls/schema";
import { startLocalService, type LocalService } from "./support/harness";

const PUBLIC_BASE_URL = "https://polls.example.org";
const HEADER_LIMIT = 16 * 1024;

let service: LocalService;
let origin: string;
let header: string;
let challenge: PaymentRequired;
let bazaar: DiscoveryExtension;

beforeAll(async () => {
  // A deployment with a public https origin (the server itself listens on loopback).
  service = await startLocalService({ PUBLIC_BASE_URL });
  origin = `http://127.0.0.1:${service.port}`;
  const response = await fetch(`${origin}/api/v1/polls`, { method: "POST" });
  expect(response.status).toBe(402);
  header = response.headers.get("PAYMENT-REQUIRED")!;
  challenge = decodePaymentRequiredHeader(header);
  bazaar = challenge.extensions!.bazaar as DiscoveryExtension;
});
afterAll(async () => {
  await service?.stop();
});

describe("the 402 challenge's service metadata", () => {
  it("parses with @x402/core's PaymentRequiredV2Schema (which rejects the whole challenge on a bad field)", () => {
    const decoded = JSON.parse(Buffer.from(header, "base64").toString("utf8"));
    const parsed = PaymentRequiredV2Schema.safeParse(decoded);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });

  it("names the service, tags it (≤ 5) and points at its icon, derived from PUBLIC_BASE_URL", () => {
    const { resource } = challenge;
    expect(resource.url).toBe(`${PUBLIC_BASE_URL}/api/v1/polls`);
    expect(resource.serviceName).toBe("Quali");
    expect(resource.serviceName!.length).toBeLessThanOrEqual(32);
    expect(resource.serviceName).toMatch(/^[\x20-\x7e]+$/);
    expect(resource.tags).toEqual(["taste", "polls", "feedback", "world-id", "agents"]);
    expect(resource.iconUrl).toBe(`${PUBLIC_BASE_URL}/favicon.ico`);
  });

  it("takes X402_RESOURCE_ICON_URL when set, and never advertises a non-https, IP or localhost icon", () => {
    expect(resourceIconUrl(PUBLIC_BASE_URL, "https://cdn.example.net/quali.png")).toBe("https://cdn.example.net/quali.png");
    expect(resourceIconUrl("http://localhost:8787")).toBeUndefined();
    expect(resourceIconUrl("https://127.0.0.1:8787")).toBeUndefined();
    expect(resourceIconUrl("https://localhost")).toBeUndefined();
    expect(resourceIconUrl("http://polls.example.org")).toBeUndefined();
    expect(resourceIconUrl(PUBLIC_BASE_URL, "http://cdn.example.net/quali.png")).toBeUndefined();
  });

  it("keeps the encoded PAYMENT-REQUIRED header under 16 KB, even with all four production networks", () => {
    expect(header.length).toBeLessThan(HEADER_LIMIT);
    const template = challenge.accepts[0]!;
    const worstCase: PaymentRequired = {
      ...challenge,
      error: "settlement_outcome_unknown",
      accepts: PRODUCTION_NETWORKS.map((spec) => ({
        ...template,
        network: spec.network,
        asset: spec.usdc.address,
        amount: "5000000000",
        payTo: "0x9999999999999999999999999999999999999999",
        extra: { name: spec.usdc.name, version: spec.usdc.version },
      })),
    };
    const encoded = encodePaymentRequiredHeader(worstCase);
    expect(encoded.length).toBeLessThan(HEADER_LIMIT);
    expect(PaymentRequiredV2Schema.safeParse(worstCase).success).toBe(true);
  });
});

describe("the bazaar declaration", () => {
  it("describes a JSON POST with a crawler-safe example (maxResponses 100) and an example response", () => {
    expect(bazaar.info.input).toMatchObject({ type: "http", method: "POST", bodyType: "json" });
    const body = (bazaar.info.input as { body: Record<string, unknown> }).body;
    expect(body.maxResponses).toBe(100);
    expect(bazaar.info.output?.type).toBe("json");
    // The example response is a real 201 body for that request.
    expect(CreatePollResponse.safeParse(bazaar.info.output?.example).success).toBe(true);
  });

  it("is accepted by validateDiscoveryExtensionSpec and validateDiscoveryExtension, without Ajv format noise", () => {
    expect(validateDiscoveryExtensionSpec(challenge.extensions!.bazaar as Record<string, unknown>)).toEqual({ valid: true });
    const warn = vi.spyOn(console, "warn");
    try {
      expect(validateDiscoveryExtension(bazaar)).toEqual({ valid: true });
      // Ajv (without ajv-formats) logs `unknown format "date-time" ignored` for any `format` keyword.
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it("is extracted by extractDiscoveryInfo from a payment payload the official client builds", async () => {
    const devnet = service.devnet!;
    const client = agentClient({ privateKey: devnet.payers[0]!.privateKey, network: devnet.network, asset: devnet.asset });
    const payload = await client.createPaymentPayload(challenge);
    expect(payload.resource?.url).toBe(`${PUBLIC_BASE_URL}/api/v1/polls`);
    const discovered = extractDiscoveryInfo(payload, payload.accepted);
    expect(discovered).toMatchObject({
      resourceUrl: `${PUBLIC_BASE_URL}/api/v1/polls`,
      method: "POST",
      serviceName: "Quali",
      tags: ["taste", "polls", "feedback", "world-id", "agents"],
      iconUrl: `${PUBLIC_BASE_URL}/favicon.ico`,
      x402Version: 2,
    });
    expect(discovered?.discoveryInfo.input).toMatchObject({ type: "http", method: "POST", bodyType: "json" });
  });

  it("has a JSON Schema that covers every field of the real request body", () => {
    const input = (bazaar.schema.properties as Record<string, { properties: Record<string, unknown> }>).input!;
    const bodySchema = input.properties.body as { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean };
    const fields = Object.keys(CreatePollBody.shape).sort();
    expect(Object.keys(bodySchema.properties).sort()).toEqual(fields);
    expect(bodySchema.required.sort()).toEqual(["expiresAt", "maxResponses", "options", "question"]);
    expect(bodySchema.additionalProperties).toBe(false);
  });

  it("has an example body that passes our own request validation: it is priced, not refused", async () => {
    const body = (bazaar.info.input as { body: Record<string, unknown> }).body;
    expect(CreatePollBody.safeParse(body).success).toBe(true);
    const response = await fetch(`${origin}/api/v1/polls`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(402);
    expect(decodePaymentRequiredHeader(response.headers.get("PAYMENT-REQUIRED")!).accepts[0]?.amount).toBe("500000");
  });

  it("has a compact request-body schema that accepts every body our validator accepts (and refuses a malformed one)", () => {
    const example = (bazaar.info.input as { body: Record<string, unknown> }).body;
    const withBody = (body: Record<string, unknown>) =>
      ({ ...bazaar, info: { ...bazaar.info, input: { ...(bazaar.info.input as Record<string, unknown>), body } } }) as unknown as DiscoveryExtension;
    const accepted: Record<string, unknown>[] = [
      example,
      { ...example, description: null, moreInfoUrl: null, mediaUrl: null, mediaType: null, layoutType: null, callbackUrl: null },
      { ...example, mediaUrl: "https://cdn.example.org/a.png", mediaType: "image", layoutType: "grid", publicResults: true },
      { ...example, expiresAt: "2099-01-15T12:00:00+02:00" },
      { ...example, expiresAt: "2099-01-15T12:00:00.123456Z" },
      { ...example, options: [{ text: "A", mediaUrl: null }, { text: "B", mediaUrl: "https://cdn.example.org/b.png" }] },
    ];
    for (const body of accepted) {
      expect(CreatePollBody.safeParse(body).success, JSON.stringify(body)).toBe(true);
      expect(validateDiscoveryExtension(withBody(body)), JSON.stringify(body)).toEqual({ valid: true });
    }
    for (const body of [{ ...example, expiresAt: "next tuesday" }, { ...example, mediaType: "video" }, { ...example, maxResponses: 99 }]) {
      expect(CreatePollBody.safeParse(body).success).toBe(false);
      expect(validateDiscoveryExtension(withBody(body)).valid, JSON.stringify(body)).toBe(false);
    }
    // zod's artefacts stay out of every 402: no nullable anyOf, no ±2^53 bounds, no 350-character regex.
    const text = JSON.stringify(bazaar.schema);
    expect(text).not.toContain('"anyOf"');
    expect(text).not.toContain(String(Number.MAX_SAFE_INTEGER));
    expect(text.length).toBeLessThan(2800); // 3,417 with zod's output as is
  });
});
