// An agent paying for a poll on the local devnet with the official x402 client, end to end:
// quote → 402 challenge → signed EIP-3009 payment → 201 with the settlement, balances before/after.
// Usage: npm start (in another terminal), then: npm run demo [-- --base-url URL --payer N]
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { decodePaymentResponseHeader } from "@x402/core/http";
import { createPublicClient, erc20Abi, http } from "viem";
import { loadConfig } from "../src/config";
import { formatUsdc } from "../src/payment/pricing";
import { payingFetch } from "./lib/agent";

interface DevnetFile {
  network: `eip155:${number}`;
  rpcUrl: string;
  asset: `0x${string}`;
  payTo: `0x${string}`;
  payers: { address: `0x${string}`; privateKey: `0x${string}` }[];
}

async function main() {
  const config = loadConfig();
  const { values } = parseArgs({
    options: {
      "base-url": { type: "string", default: config.publicBaseUrl },
      payer: { type: "string", default: "0" },
      "max-responses": { type: "string", default: "100" },
    },
  });
  const baseUrl = values["base-url"]!.replace(/\/+$/, "");
  const devnet = JSON.parse(readFileSync(join(resolve(config.dataDir), "devnet.json"), "utf8")) as DevnetFile;
  const payer = devnet.payers[Number(values.payer)];
  if (!payer) throw new Error(`no demo payer #${values.payer} in devnet.json`);
  const chain = createPublicClient({ transport: http(devnet.rpcUrl) });
  const balance = (address: `0x${string}`) =>
    chain.readContract({ address: devnet.asset, abi: erc20Abi, functionName: "balanceOf", args: [address] });

  const maxResponses = Number(values["max-responses"]);
  const quote = await (await fetch(`${baseUrl}/api/v1/quote?maxResponses=${maxResponses}`)).json();
  console.log(`Quote for ${maxResponses} responses: ${quote.costUsdc} USDC (${quote.costAtomic} atomic)`);

  const before = { payer: await balance(payer.address), payTo: await balance(devnet.payTo) };
  const pay = payingFetch({ privateKey: payer.privateKey, network: devnet.network, asset: devnet.asset });
  const response = await pay(`${baseUrl}/api/v1/polls`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      question: "Which name is clearer for a note-taking app?",
      description: "Created by npm run demo on the local devnet.",
      options: [{ text: "Jotter" }, { text: "Notebloom" }, { text: "Quill" }],
      maxResponses,
      expiresAt: new Date(Date.now() + 7 * 24 * 3600_000).toISOString(),
    }),
  });
  const body = await response.json();
  console.log(`POST /api/v1/polls → ${response.status}`);
  console.log(JSON.stringify(body, null, 2));
  const settlement = response.headers.get("PAYMENT-RESPONSE");
  if (settlement) console.log("PAYMENT-RESPONSE:", decodePaymentResponseHeader(settlement));

  const after = { payer: await balance(payer.address), payTo: await balance(devnet.payTo) };
  console.log(`payer ${payer.address}: ${formatUsdc(before.payer)} → ${formatUsdc(after.payer)} USDC`);
  console.log(`payTo ${devnet.payTo}: ${formatUsdc(before.payTo)} → ${formatUsdc(after.payTo)} USDC`);
  if (response.status !== 201) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
