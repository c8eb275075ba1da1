// An agent paying for a poll on the local devnet with the typed client (src/client, which pays with the
// official x402 client), end to end: quote → 402 challenge → signed EIP-3009 payment → 201 with the
// settlement, balances before/after.
// Usage: npm start (in another terminal), then: npm run demo [-- --base-url URL --payer N --max-responses N]
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createPublicClient, erc20Abi, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { createQualiClient, QualiApiError, QualiClientError } from "../src/client";
import { loadConfig } from "../src/config";
import { formatUsdc } from "../src/payment/pricing";

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
  const reader = createQualiClient({ baseUrl });
  const quote = await reader.quote({ maxResponses });
  console.log(`Quote for ${maxResponses} responses: ${quote.costUsdc} USDC (${quote.costAtomic} atomic)`);

  // The paying client: the devnet's test USDC is not a known USDC, so it is allowed by name, and the
  // spend cap is the quoted price: a dearer challenge would be refused before anything is signed.
  const client = createQualiClient({
    baseUrl,
    account: privateKeyToAccount(payer.privateKey),
    allowedAssets: [{ network: devnet.network, asset: devnet.asset }],
    maxAmountAtomicPerPoll: BigInt(quote.costAtomic),
    beforePayment: (payment) =>
      console.log(`Paying ${formatUsdc(payment.amountAtomic)} USDC on ${payment.network} to ${payment.payTo} (signing an EIP-3009 authorization)`),
  });

  const before = { payer: await balance(payer.address), payTo: await balance(devnet.payTo) };
  const { poll, payment } = await client.createPoll({
    question: "Which name is clearer for a note-taking app?",
    description: "Created by npm run demo on the local devnet.",
    options: [{ text: "Jotter" }, { text: "Notebloom" }, { text: "Quill" }],
    maxResponses,
    expiresAt: new Date(Date.now() + 7 * 24 * 3600_000).toISOString(),
  });
  console.log("POST /api/v1/polls → 201");
  console.log(JSON.stringify(poll, null, 2));
  console.log(`Settled on ${payment.network}: tx ${payment.txHash}, ${formatUsdc(payment.amountAtomic)} USDC from ${payment.payer}`);

  const after = { payer: await balance(payer.address), payTo: await balance(devnet.payTo) };
  console.log(`payer ${payer.address}: ${formatUsdc(before.payer)} → ${formatUsdc(after.payer)} USDC`);
  console.log(`payTo ${devnet.payTo}: ${formatUsdc(before.payTo)} → ${formatUsdc(after.payTo)} USDC`);
  console.log(`Results (read token in X-Read-Token): ${poll.endpoints.results}`);
}

main().catch((error: unknown) => {
  if (error instanceof QualiApiError) console.error(`${error.status} ${error.code}: ${error.message}`);
  else if (error instanceof QualiClientError) console.error(`${error.code}: ${error.message}`);
  else console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
