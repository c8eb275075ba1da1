// An agent that reads /agents.md or /llms.txt can pay this deployment: they name its real base URL,
// its networks and USDC contracts, and carry the setSpendControls snippet that lifts the stock x402
// client's $1-per-payment cap (and allows tokens missing from its default table); following that
// snippet, payments the stock client refuses go through. Humans get /docs (Swagger UI served from the npm package, no CDN) and a favicon.
import { readFileSync } from "node:fs";
import { x402Client } from "@x402/core/client";
import { registerExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import type { PaymentRequired } from "@x402/core/types";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAVICON_PATH } from "../src/discovery/assets-node";
import { renderAgentsMarkdown } from "../src/discovery/agent-docs";
import { X_GUIDANCE } from "../src/discovery/guidance";
import { BASE, WORLD_CHAIN, type NetworkSpec } from "../src/payment/networks";
import { pollBody, startLocalService, type LocalService } from "./support/harness";

let service: LocalService;
let agentsMd: string;
let llmsTxt: string;
beforeAll(async () => {
  service = await startLocalService();
  const [md, txt] = await Promise.all([fetch(`${service.url}/agents.md`), fetch(`${service.url}/llms.txt`)]);
  expect(md.status).toBe(200);
  expect(md.headers.get("content-type")).toMatch(/^text\/markdown/);
  expect(txt.status).toBe(200);
  expect(txt.headers.get("content-type")).toMatch(/^text\/plain/);
  agentsMd = await md.text();
  llmsTxt = await txt.text();
});
afterAll(async () => {
  await service?.stop();
});

/** The allowedAssets entries of the documented setSpendControls snippet. */
function documentedAllowedAssets(text: string): { network: string; asset: string; maxAmountPerPayment: string }[] {
  const snippet = /client\.setSpendControls\(\{\s*allowedAssets: \[([\s\S]*?)\],?\s*\}\);/.exec(text)?.[1] ?? "";
  return [...snippet.matchAll(/\{ network: "([^"]+)", asset: "([^"]+)", maxAmountPerPayment: "(\d+)" \}/g)].map((m) => ({
    network: m[1]!,
    asset: m[2]!,
    maxAmountPerPayment: m[3]!,
  }));
}

describe("/agents.md and /llms.txt", () => {
  it("are this deployment's contract: real base URL, networks and USDC contract, no placeholder left", () => {
    const devnet = service.devnet!;
    for (const text of [agentsMd, llmsTxt]) {
      expect(text).toContain(`${service.url}/api/v1/polls`);
      expect(text).toContain(devnet.network);
      expect(text).toContain(devnet.asset);
      expect(text).not.toMatch(/\{\{|\}\}/);
      expect(text).not.toContain("getquali.com");
    }
    expect(agentsMd).toContain(`Base URL: ${service.url}/api/v1`);
    expect(agentsMd).toContain(`${service.url}/openapi.json`);
    for (const term of ["PAYMENT-SIGNATURE", "PAYMENT-REQUIRED", "PAYMENT-RESPONSE", "readToken", "X-Read-Token", "resource.url"]) {
      expect(agentsMd).toContain(term);
    }
    expect(agentsMd).toContain("local development deployment");
  });

  it("carry the snippet that raises the $1 default cap, for every accepted asset", () => {
    const devnet = service.devnet!;
    for (const text of [agentsMd, llmsTxt]) {
      expect(text).toContain("$1");
      expect(text).toMatch(/over 200 responses/);
      expect(documentedAllowedAssets(text)).toEqual([
        { network: devnet.network, asset: devnet.asset, maxAmountPerPayment: "5000000000" },
      ]);
    }
  });

  it("the snippet is what it takes here: a stock client refuses the asset, the documented one pays a $1.50 poll", async () => {
    const devnet = service.devnet!;
    const signer = privateKeyToAccount(devnet.payers[1]!.privateKey);
    const body = JSON.stringify(pollBody({ maxResponses: 300 })); // 1.5 USDC
    const request = { method: "POST", headers: { "content-type": "application/json" }, body };

    const stock = new x402Client();
    registerExactEvmScheme(stock, { signer });
    await expect(wrapFetchWithPayment(fetch, stock)(`${service.url}/api/v1/polls`, request)).rejects.toThrow(/spendControls/);

    const documented = new x402Client();
    registerExactEvmScheme(documented, { signer });
    documented.setSpendControls({ allowedAssets: documentedAllowedAssets(agentsMd) as never });
    const response = await wrapFetchWithPayment(fetch, documented)(`${service.url}/api/v1/polls`, request);
    expect(response.status).toBe(201);
    expect((await response.json()).pricing.costUsdc).toBe(1.5);
  });
});

describe("the production rendering's snippet (Base and World Chain USDC)", () => {
  const rendered = renderAgentsMarkdown({
    publicBaseUrl: "https://polls.example.org",
    networks: [BASE, WORLD_CHAIN].map((spec) => ({ spec, payTo: "0x9999999999999999999999999999999999999999" as const })),
    mode: "production",
  });
  const signer = privateKeyToAccount(generatePrivateKey());

  async function signs(controls: Parameters<x402Client["setSpendControls"]>[0] | undefined, spec: NetworkSpec) {
    const challenge = (await (await fetch(`${service.url}/api/v1/quote?maxResponses=300`)).json()).paymentRequired as PaymentRequired;
    const accepted = {
      ...challenge.accepts[0]!,
      network: spec.network,
      asset: spec.usdc.address,
      extra: { name: spec.usdc.name, version: spec.usdc.version },
    };
    const client = new x402Client();
    registerExactEvmScheme(client, { signer });
    if (controls) client.setSpendControls(controls);
    return client.createPaymentPayload({ ...challenge, accepts: [accepted] });
  }

  it("names both contracts with a 5,000 USDC cap", () => {
    expect(documentedAllowedAssets(rendered)).toEqual([
      { network: BASE.network, asset: BASE.usdc.address, maxAmountPerPayment: "5000000000" },
      { network: WORLD_CHAIN.network, asset: WORLD_CHAIN.usdc.address, maxAmountPerPayment: "5000000000" },
    ]);
  });

  it("Base USDC: the stock client stops at $1; with the snippet it signs a $1.50 payment", async () => {
    await expect(signs(undefined, BASE)).rejects.toThrow(/maxAmountPerPayment/);
    const payload = await signs({ allowedAssets: documentedAllowedAssets(rendered) as never }, BASE);
    expect(payload.accepted.amount).toBe("1500000");
  });

  it("World Chain USDC: the stock client refuses the asset; with the snippet it signs", async () => {
    await expect(signs(undefined, WORLD_CHAIN)).rejects.toThrow(/spendControls/);
    const payload = await signs({ allowedAssets: documentedAllowedAssets(rendered) as never }, WORLD_CHAIN);
    expect(payload.accepted.network).toBe(WORLD_CHAIN.network);
  });
});

describe("info.x-guidance", () => {
  it("says how to quote, pay, keep resource.url, store the readToken and read with it, under 4,000 characters", () => {
    expect(X_GUIDANCE.length).toBeLessThan(4000);
    for (const term of [
      "GET /api/v1/quote",
      "402",
      "PAYMENT-SIGNATURE",
      "paymentPayload.resource.url",
      "readToken",
      "X-Read-Token",
      "client.setSpendControls({ allowedAssets: [{ network, asset, maxAmountPerPayment",
      "$1",
      "over 200 responses",
    ]) {
      expect(X_GUIDANCE).toContain(term);
    }
    // Deployment-neutral: the committed openapi.json must equal every deployment's document.
    expect(X_GUIDANCE).not.toMatch(/https?:\/\//);
  });
});

describe("/docs and /favicon.ico", () => {
  it("/docs renders /openapi.json with Swagger UI served by this app (no CDN)", async () => {
    const page = await fetch(`${service.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources.filter((s) => /^(https?:)?\/\//.test(s))).toEqual([]);
    const assets = sources.filter((s) => s.startsWith("/docs/assets/"));
    expect(assets.some((s) => s.endsWith("swagger-ui-bundle.js"))).toBe(true);
    expect(assets.some((s) => s.endsWith("swagger-ui.css"))).toBe(true);
    for (const path of assets) {
      const asset = await fetch(`${service.url}${path}`);
      expect(asset.status, path).toBe(200);
      expect(asset.headers.get("content-type"), path).toMatch(path.endsWith(".css") ? /^text\/css/ : /^text\/javascript/);
      const text = await asset.text();
      if (path.endsWith("swagger-ui-bundle.js")) expect(text).toContain("SwaggerUIBundle");
      if (path.endsWith("init.js")) {
        expect(text).toContain('url: "/openapi.json"');
        expect(text).toContain("validatorUrl: null");
      }
    }
  });

  it("/favicon.ico answers the committed icon as an image, for GET and HEAD", async () => {
    const committed = readFileSync(FAVICON_PATH);
    expect([...committed.subarray(0, 4)]).toEqual([0, 0, 1, 0]); // ICO header: reserved 0, type 1 (icon)
    const response = await fetch(`${service.url}/favicon.ico`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/x-icon");
    expect(Buffer.from(await response.arrayBuffer()).equals(committed)).toBe(true);
    const head = await fetch(`${service.url}/favicon.ico`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toMatch(/^image\//);
  });
});
