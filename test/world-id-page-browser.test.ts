// The poll page's production World ID path (the API says `simulated: false`), in headless Chromium.
//
// 1. The real IDKit browser build the app vendors (@worldcoin/idkit-core dist/idkit.global.js + wasm):
//    given the API's signed request it opens a Wallet Bridge request (the bridge is played by the test:
//    it decrypts what IDKit sent), the page shows the "Open World App" link and a QR code of it (decoded
//    here with jsQR), and a refusal relayed from World App is reported with nothing recorded. The request
//    asks for a World ID 4 proof of human only (allow_legacy_proofs false: this service accepts 4.0
//    proofs only). World App itself cannot be played: its answer carries a real Groth16 proof.
// 2. An IDKit test double whose "World App" is the local simulator: the page passes IDKit exactly the
//    API's `idkit` request and signal, and sends the result unchanged as `proof`; the vote is verified by
//    the portal stand-in and recorded.
//
// IDKit needs two Content-Security-Policy additions (PAGES_CSP_NEEDS in src/pages): 'wasm-unsafe-eval' in
// script-src (WebAssembly only, not eval) and the Wallet Bridge in connect-src. Our policy has them
// (asserted); under a policy that lacks them the page must say World ID cannot start and record nothing.
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from "node:crypto";
import jsQR from "jsqr";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PAGES_CSP_NEEDS } from "../src/pages";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, type CreatedPoll } from "./support/polls";
import { collectProblems, launchBrowser, newContext, screenshot } from "./support/browser";

let service: LocalService;
let browser: Browser;
let poll: CreatedPoll;
const BRIDGE = "https://bridge.worldcoin.org";
// IDKit accepts only real-looking relying-party ids (rp_ + hex).
const RP_ID = "rp_0123456789abcdef";

beforeAll(async () => {
  [service, browser] = await Promise.all([startLocalService({ WORLD_ID_RP_ID: RP_ID }), launchBrowser()]);
  poll = await createPaidPoll(service, { question: "Production World ID?", options: [{ text: "Yes" }, { text: "No" }] });
});
afterAll(async () => {
  await browser?.close();
  await service?.stop();
});

function servedPolicyAllowsIdkit(csp: string): boolean {
  const directive = (name: string) => new RegExp(`(?:^|;)\\s*${name}\\s([^;]*)`).exec(csp)?.[1] ?? "";
  return PAGES_CSP_NEEDS.scriptSrc.every((s) => directive("script-src").includes(s)) && PAGES_CSP_NEEDS.connectSrc.every((s) => directive("connect-src").includes(s));
}

/** The production path: the World ID request answers `simulated: false` (optionally under a policy stripped of IDKit's needs). */
async function productionContext(options: { stripIdkitCsp: boolean }): Promise<{ context: BrowserContext; requests: Record<string, any>[] }> {
  const context = await newContext(browser, 1280);
  const requests: Record<string, any>[] = [];
  await context.route(`${service.url}/api/v1/polls/*/world-id-request`, async (route) => {
    const response = await route.fetch();
    const json = (await response.json()) as Record<string, any>;
    json.simulated = false;
    requests.push(json);
    await route.fulfill({ response, json });
  });
  if (options.stripIdkitCsp) {
    // A stricter policy than ours (e.g. a proxy that rewrites it): strip what IDKit needs.
    await context.route(`${service.url}/polls/*`, async (route) => {
      const response = await route.fetch();
      const headers = { ...response.headers() };
      let csp = headers["content-security-policy"] ?? "";
      for (const source of [...PAGES_CSP_NEEDS.scriptSrc, ...PAGES_CSP_NEEDS.connectSrc]) csp = csp.split(` ${source}`).join("");
      headers["content-security-policy"] = csp;
      await route.fulfill({ response, headers });
    });
  }
  return { context, requests };
}

async function chooseAndContinue(page: Page): Promise<void> {
  await page.goto(`${service.url}/polls/${poll.id}`);
  await page.getByRole("radio", { name: "Yes" }).check();
  await page.getByLabel("Your payout address").fill("0x3333333333333333333333333333333333333333");
  await page.getByRole("button", { name: "Continue to World ID" }).click();
  await page.locator("#verify").waitFor();
}

const b64 = (text: string) => Buffer.from(decodeURIComponent(text), "base64");

function decrypt(key: Buffer, iv: Buffer, sealed: Buffer): string {
  const decipher = createDecipheriv("aes-256-gcm", key, iv);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]).toString("utf8");
}

function encrypt(key: Buffer, plaintext: string): { iv: string; payload: string } {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const sealed = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return { iv: iv.toString("base64"), payload: sealed.toString("base64") };
}

/** Rasterises the page's QR code and decodes it. */
async function decodeQr(page: Page): Promise<string | undefined> {
  const size = 400;
  const pixels = await page.locator("svg.qr").evaluate(async (svg, size) => {
    const image = new Image();
    image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(new XMLSerializer().serializeToString(svg))}`;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = size;
    const context = canvas.getContext("2d")!;
    context.fillStyle = "#fff";
    context.fillRect(0, 0, size, size);
    context.drawImage(image, 20, 20, size - 40, size - 40);
    return Array.from(context.getImageData(0, 0, size, size).data);
  }, size);
  return jsQR(Uint8ClampedArray.from(pixels), size, size)?.data;
}

describe("production World ID on the poll page", () => {
  it("serves a Content-Security-Policy that gives IDKit what it needs", async () => {
    const csp = (await fetch(`${service.url}/polls/${poll.id}`)).headers.get("content-security-policy") ?? "";
    expect(servedPolicyAllowsIdkit(csp)).toBe(true);
  });

  it("under a policy without IDKit's needs the page says World ID cannot start, and records nothing", async () => {
    const { context } = await productionContext({ stripIdkitCsp: true });
    const page = await context.newPage();
    await chooseAndContinue(page);
    await expect.poll(() => page.locator("#status").innerText()).toContain("World ID cannot start on this page right now");
    expect(await page.getByRole("button", { name: "Try again" }).isVisible()).toBe(true);
    expect(await page.getByRole("button", { name: /Simulated World ID/ }).count()).toBe(0);
    expect(await service.store.db.selectFrom("votes").select("id").where("poll_id", "=", poll.id).execute()).toHaveLength(0);
    await context.close();
  });

  it("the real IDKit opens a bridge request for the API's signed request, shows the World App link and its QR code, and reports a refusal", async () => {
    const { context, requests } = await productionContext({ stripIdkitCsp: false });
    let created: { iv: string; payload: string } | undefined;
    const requestId = randomUUID();
    let answer: Record<string, unknown> = { status: "initialized", response: null };
    await context.route(`${BRIDGE}/**`, async (route) => {
      const request = route.request();
      if (request.method() === "POST" && new URL(request.url()).pathname === "/request") {
        created = request.postDataJSON() as { iv: string; payload: string };
        return route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify({ request_id: requestId }) });
      }
      if (request.method() === "GET" && new URL(request.url()).pathname === `/response/${requestId}`) {
        return route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(answer) });
      }
      return route.fulfill({ status: 404, body: "" });
    });
    const page = await context.newPage();
    const problems = collectProblems(page);
    await chooseAndContinue(page);
    const link = page.getByRole("link", { name: "Open World App" });
    await link.waitFor();
    const href = (await link.getAttribute("href"))!;
    const connect = new URL(href);
    expect(connect.origin + connect.pathname).toBe("https://world.org/verify");
    expect(connect.searchParams.get("i")).toBe(requestId);
    expect(await page.getByRole("button", { name: /Simulated World ID/ }).count()).toBe(0);

    // What IDKit sent the bridge, decrypted with the key the link carries: the server's signed request.
    const key = b64(connect.searchParams.get("k")!);
    const sent = JSON.parse(decrypt(key, b64(created!.iv), b64(created!.payload))) as Record<string, any>;
    const issued = requests.at(-1)!;
    expect(sent).toMatchObject({ app_id: issued.idkit.app_id, action: issued.idkit.action, allow_legacy_proofs: false, environment: "production" });
    // A World ID 4 proof of human for this poll's action, under the server's signed nonce, bound to the signal.
    expect(sent.proof_request).toMatchObject({ proof_type: "uniqueness", rp_id: RP_ID, nonce: issued.idkit.rp_context.nonce, signature: issued.idkit.rp_context.signature });
    expect(sent.proof_request.proof_requests).toEqual([
      expect.objectContaining({ identifier: "proof_of_human", signal: `0x${Buffer.from(issued.signal, "utf8").toString("hex")}` }),
    ]);

    // The QR code holds exactly the link (for a phone's camera).
    await page.locator("svg.qr").waitFor();
    expect(await decodeQr(page)).toBe(href);
    await screenshot(page, "poll-world-app-1280");

    // World App declines: relayed through the bridge, encrypted with the request's key.
    answer = { status: "completed", response: encrypt(key, JSON.stringify({ error_code: "user_rejected" })) };
    await expect.poll(() => page.locator("#status").innerText(), { timeout: 10_000 }).toContain("You declined the request in World App");
    expect(await service.store.db.selectFrom("votes").select("id").where("poll_id", "=", poll.id).execute()).toHaveLength(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("sends IDKit's result unchanged as the proof (an IDKit double whose World App is the simulator); the vote is verified and recorded", async () => {
    const { context, requests } = await productionContext({ stripIdkitCsp: true });
    // The double: same surface as the browser build's window.IDKit (request → constraints → pollUntilCompletion).
    await context.addInitScript(() => {
      const calls: unknown[] = [];
      (window as any).__idkitCalls = calls;
      (window as any).IDKit = {
        CredentialRequest: (type: string, options: { signal: string }) => ({ type, ...options }),
        request: (config: any) => ({
          constraints: async (constraints: any) => {
            calls.push({ config, constraints });
            return {
              connectorURI: "https://world.org/verify?t=wld&i=double&k=double",
              requestId: "double",
              pollUntilCompletion: async () => {
                const response = await fetch("/api/v1/voter/simulated-proof", {
                  method: "POST",
                  headers: { "content-type": "application/json" },
                  body: JSON.stringify({ action: config.action, signal: constraints.signal, rpContext: config.rp_context, human: "production-path-human" }),
                });
                return { success: true, result: await response.json() };
              },
            };
          },
        }),
      };
    });
    const page = await context.newPage();
    const problems = collectProblems(page);
    const vote = page.waitForRequest((r) => r.url().endsWith(`/api/v1/polls/${poll.id}/votes`));
    const proofResponse = page.waitForResponse((r) => r.url().endsWith("/api/v1/voter/simulated-proof"));
    await chooseAndContinue(page);
    await page.locator("#confirmation").waitFor();
    const calls = (await page.evaluate(() => (window as any).__idkitCalls)) as unknown[];
    const issued = requests.at(-1)!;
    expect(calls).toEqual([{ config: issued.idkit, constraints: { type: "proof_of_human", signal: issued.signal } }]);
    expect((await vote).postDataJSON().proof).toEqual(await (await proofResponse).json());
    expect(await page.locator("#confirmation").innerText()).toContain("+0.0005 USDC");
    expect(await service.store.db.selectFrom("votes").select("id").where("poll_id", "=", poll.id).execute()).toHaveLength(1);
    expect(problems).toEqual([]);
    await context.close();
  });
});
