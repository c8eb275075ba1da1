// What local mode gives the Node server in place of production's outside services: the devnet (anvil +
// TestUSDC + the official facilitator in process) as the one payment network and the payout wallet's
// chain, the word-list moderator, the simulated World ID, and a read-token secret kept in DATA_DIR so
// read tokens survive a restart.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config";
import type { Moderator } from "../moderation";
import { viemChainReader, type ChainReader, devnetNetwork, PRODUCTION_NETWORKS, type EnabledNetwork, type NetworkSpec } from "../payment";
import type { PayoutNetwork } from "../payouts";
import { startDevnet, type Devnet } from "./devnet";
import { createWordListModerator } from "./word-list-moderator";
import { devnetPayoutNetwork } from "./payout-wallet";
import { startLocalWorldId, type LocalWorldId } from "./world-id";

export interface LocalPlatform {
  devnet: Devnet;
  networks: EnabledNetwork[];
  knownNetworks: NetworkSpec[];
  chains: Map<string, ChainReader>;
  moderator: Moderator;
  readTokenSecret: string;
  worldId: LocalWorldId;
  /** The devnet payout wallet (funded once), or PAYOUT_PRIVATE_KEY's when set. */
  payoutNetwork(log: (line: string) => void): Promise<PayoutNetwork>;
  /** devnet.json: what scripts and tools (demo, simulate-voters, npm run audit) need to reach the chain. */
  writeDevnetFile(payoutWallet: string | undefined): void;
}

export async function startLocalPlatform(config: Config, dataDir: string, log: (line: string) => void): Promise<LocalPlatform> {
  const devnet = await startDevnet({ dataDir, ...(config.devnet.rpcUrl ? { rpcUrl: config.devnet.rpcUrl } : {}), chainId: config.devnet.chainId });
  const spec = devnetNetwork(devnet.chainId, { address: devnet.asset, name: devnet.tokenName, version: devnet.tokenVersion });
  return {
    devnet,
    networks: [{ spec, payTo: devnet.payTo }],
    knownNetworks: [spec, ...PRODUCTION_NETWORKS],
    chains: new Map([[devnet.network, viemChainReader(devnet.rpcUrl, { pollingIntervalMs: 50 })]]),
    moderator: createWordListModerator(),
    readTokenSecret: config.readTokenSecret ?? localReadTokenSecret(dataDir),
    worldId: startLocalWorldId(config, { dataDir, log }),
    payoutNetwork: (payoutLog) => devnetPayoutNetwork({ devnet, privateKey: config.payouts.privateKey, log: payoutLog }),
    writeDevnetFile(payoutWallet) {
      const info = {
        network: devnet.network,
        chainId: devnet.chainId,
        rpcUrl: devnet.rpcUrl,
        asset: devnet.asset,
        payTo: devnet.payTo,
        ...(payoutWallet ? { payoutWallet } : {}),
        payers: devnet.payers.map(({ address, privateKey }) => ({ address, privateKey })),
      };
      writeFileSync(join(dataDir, "devnet.json"), `${JSON.stringify(info, null, 2)}\n`);
    },
  };
}

function localReadTokenSecret(dataDir: string): string {
  const path = join(dataDir, "read-token-secret");
  if (existsSync(path)) return readFileSync(path, "utf8").trim();
  const secret = randomBytes(32).toString("hex");
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}
