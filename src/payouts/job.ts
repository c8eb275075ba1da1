// The payout job: sends the queue of outgoing transfers from the payout wallet — voters' rewards (claimed
// ledger entries) and refunds of unfilled responses (src/payouts/refunds.ts) — each exactly once. Both
// kinds are rows of `payouts` and take every step below alike; only what a row owes differs.
//
// One round per network, never two at once for the same network (one wallet, one nonce sequence):
//   1. Settle in-flight payouts (signed/sent): receipt by hash → confirmed (status 1) or failed +
//      released (reverted); no receipt → re-broadcast the SAME signed transaction and wait for it. A
//      payout that stays unconfirmed ends the round: nothing new is signed behind it.
//   2. Queue the refunds ended polls owe (refunds.queueOwedRefunds), and claim every address whose unpaid
//      entries reached the threshold (repo.claimStatements).
//   3. Check the wallet: USDC ≥ everything pending and gas ≥ PAYOUT_MIN_GAS_WEI, else pause (logged on
//      every change of state, reported by /healthz). Votes are unaffected: they only write the ledger.
//   4. Pay the claimed payouts oldest first, one at a time: sign locally (nonce = max(pending nonce,
//      highest recorded nonce + 1)), record signed_tx + tx_hash (guarded claimed → signed) BEFORE
//      eth_sendRawTransaction, mark sent, wait for the receipt, mark confirmed.
//      A payout whose gas estimate reverts (the token refuses that recipient: blacklisted, the zero
//      address…) is PARKED with the revert reason, keeping its entries, and the round goes on with the
//      next one — unless a transfer of the same amount back to the wallet reverts too: then the token
//      refuses the wallet itself and the network pauses (token_refuses_transfers) instead.
// A process that dies anywhere leaves a row that step 1 (or 4, for `claimed`) finishes after a restart:
// a `claimed` row is not broadcast yet (broadcast happens only from a recorded signed_tx), so it is
// safe to sign; a `signed`/`sent` row is only ever re-broadcast.
import { randomUUID } from "node:crypto";
import type { Hex } from "viem";
import type { PayoutRow } from "../db/schema";
import { isUniqueViolation, type Store } from "../db/store";
import { serialRunner } from "../lib/serial-runner";
import { formatUsdc } from "../payment";
import { describeChainError, isExecutionRevert, revertReason, type Address, type PayoutChain, type PayoutReceipt, type TransferPlan } from "./chain";
import { queueOwedRefunds } from "./refunds";
import {
  addressesOverThreshold,
  claimPayout,
  failAndReleaseStatements,
  findInFlight,
  findNextClaimed,
  markConfirmed,
  markSent,
  maxRecordedNonce,
  parkedSummary,
  parkStatement,
  pendingAtomic,
  recordSigned,
} from "./repo";

export const PAYOUT_CRASH_POINTS = ["after_claim", "after_sign", "after_broadcast", "after_receipt", "after_confirm"] as const;
/** Local-mode crash-test hook points (QUALI_TEST_PAYOUT_CRASH_AT). */
export type PayoutCrashPoint = (typeof PAYOUT_CRASH_POINTS)[number];

export type PayoutLog = (message: string, fields?: Record<string, unknown>) => void;

export interface PayoutNetwork {
  network: string;
  label: string;
  /** The payout wallet there; undefined → payouts are off on this network. */
  chain?: PayoutChain;
  /** Why payouts are off (no key / no RPC), for the startup log and /healthz. */
  offReason?: string;
}

export type PauseReason = "not_configured" | "insufficient_usdc" | "insufficient_gas" | "rpc_unavailable" | "token_refuses_transfers";

/** Parked payouts on one network, as /healthz shows them (no voter address: `npm run payouts -- list` has those). */
export interface ParkedHealth {
  count: number;
  amountAtomic: string;
  oldest: { id: string; parkedAt: string; reason: string } | null;
}

/** One network's entry in GET /healthz → payouts. Amounts are decimal strings of integers. */
export interface PayoutHealth {
  state: "active" | "paused";
  reason?: PauseReason;
  message?: string;
  wallet: string | null;
  walletBalanceAtomic: string | null;
  pendingAtomic: string;
  gasBalanceWei: string | null;
  checkedAt: string | null;
  /** As of the job's last round. */
  parked: ParkedHealth;
}

const NOTHING_PARKED: ParkedHealth = { count: 0, amountAtomic: "0", oldest: null };

export interface PayoutJobDeps {
  store: Store;
  networks: readonly PayoutNetwork[];
  /** Unpaid balance at which the job pays an address without being asked (atomic USDC). */
  thresholdAtomic: bigint;
  /** Below this much native gas in the payout wallet, payouts pause. */
  minGasWei: bigint;
  /** How long a round waits for a receipt before leaving the payout in flight for the next round. */
  receiptTimeoutMs?: number;
  /**
   * A payout whose nonce was used by another transaction is failed (entries released) only after this
   * condition has held, with still no receipt for our hash, for this long (default 5 min): behind a
   * load-balanced RPC one node may count the nonce before another serves our receipt.
   */
  nonceReuseGraceMs?: number;
  now: () => Date;
  log: PayoutLog;
  crashPoint?: (point: PayoutCrashPoint) => void;
  /** After each confirmed payout (the devnet saves its state). */
  onConfirmed?: () => Promise<void>;
}

export interface PayoutWorker {
  readonly networks: readonly PayoutNetwork[];
  readonly thresholdAtomic: bigint;
  /**
   * Schedules a round on one network (or all); resolves when a round that started after the call ends (on
   * Workers: once the network's runner took the request).
   */
  kick(network?: string): Promise<void>;
  /** The latest state per network, as /healthz shows it (on Workers, asked of each network's runner). */
  health(): Record<string, PayoutHealth> | Promise<Record<string, PayoutHealth>>;
  stop(): Promise<void>;
}

/**
 * waiting: broadcast, no receipt yet; refused: the node did not take it (retried next round); parked:
 * the token refuses this recipient, set aside before signing.
 */
type SendOutcome = "confirmed" | "failed" | "waiting" | "refused" | "paused" | "lost" | "parked";

/** How a transfer is named in the log: `payout <id>` (a voter's reward) or `refund <id> of poll <pollId>`. */
export function transferName(row: Pick<PayoutRow, "id" | "kind" | "poll_id">): string {
  return row.kind === "refund" ? `refund ${row.id} of poll ${row.poll_id}` : `payout ${row.id}`;
}

/** What a failed transfer's log line says happens next. */
const afterFailure = (row: PayoutRow) =>
  row.kind === "refund" ? "no money moved; the next round queues the poll's refund again" : `its ${row.entries} ledger entries are released for a new payout`;

const DEFAULT_RECEIPT_TIMEOUT_MS = 60_000;
const DEFAULT_NONCE_REUSE_GRACE_MS = 5 * 60_000;
const THRESHOLD_CLAIMS_PER_ROUND = 200;

/** A network's health before its first round: active when it has a wallet, else paused as not configured. */
export function healthBeforeFirstRound(n: PayoutNetwork): Omit<PayoutHealth, "parked"> {
  return {
    state: n.chain ? "active" : "paused",
    ...(n.chain ? {} : { reason: "not_configured" as const, message: n.offReason ?? "No payout wallet for this network." }),
    wallet: n.chain?.wallet ?? null,
    walletBalanceAtomic: null,
    pendingAtomic: "0",
    gasBalanceWei: null,
    checkedAt: null,
  };
}

export function createPayoutWorker(deps: PayoutJobDeps): PayoutWorker {
  const { store, log } = deps;
  const { db } = store;
  const receiptTimeoutMs = deps.receiptTimeoutMs ?? DEFAULT_RECEIPT_TIMEOUT_MS;
  const crash = (point: PayoutCrashPoint) => deps.crashPoint?.(point);
  const at = () => deps.now().toISOString();
  const controller = new AbortController();
  const healthByNetwork = new Map<string, Omit<PayoutHealth, "parked">>();
  const parkedByNetwork = new Map<string, ParkedHealth>();
  const nonceReuseGraceMs = deps.nonceReuseGraceMs ?? DEFAULT_NONCE_REUSE_GRACE_MS;
  /** Payout id → when we first saw its nonce used on chain with no receipt for its transaction. */
  const nonceUsedSince = new Map<string, number>();

  for (const n of deps.networks) healthByNetwork.set(n.network, healthBeforeFirstRound(n));

  /** Stores the new health and logs a line when the state or the reason changed. */
  const setHealth = (n: PayoutNetwork, next: Omit<PayoutHealth, "parked">) => {
    const previous = healthByNetwork.get(n.network);
    healthByNetwork.set(n.network, next);
    const changed = !previous || previous.checkedAt === null || previous.state !== next.state || previous.reason !== next.reason;
    if (!changed) return;
    if (next.state === "paused") {
      log(`payouts paused on ${n.label} (${n.network}): ${next.message ?? next.reason}`, { level: "warn", network: n.network, reason: next.reason });
    } else if (previous && previous.state === "paused" && previous.checkedAt !== null) {
      log(`payouts resumed on ${n.label} (${n.network})`, { network: n.network });
    }
  };

  const pause = (n: PayoutNetwork, chain: PayoutChain, reason: PauseReason, message: string, figures: Partial<Omit<PayoutHealth, "parked">> = {}) => {
    const previous = healthByNetwork.get(n.network);
    setHealth(n, {
      state: "paused",
      reason,
      message,
      wallet: chain.wallet,
      walletBalanceAtomic: figures.walletBalanceAtomic ?? previous?.walletBalanceAtomic ?? null,
      pendingAtomic: figures.pendingAtomic ?? previous?.pendingAtomic ?? "0",
      gasBalanceWei: figures.gasBalanceWei ?? previous?.gasBalanceWei ?? null,
      checkedAt: at(),
    });
  };

  /** Reads the wallet and what is pending; pauses when it cannot cover them. Returns the state. */
  const checkWallet = async (n: PayoutNetwork, chain: PayoutChain): Promise<"active" | "paused"> => {
    const pending = await pendingAtomic(db, n.network);
    let usdc: bigint;
    let gas: bigint;
    try {
      [usdc, gas] = await Promise.all([chain.usdcBalance(), chain.gasBalance()]);
    } catch (error) {
      pause(n, chain, "rpc_unavailable", `the chain RPC did not answer (${describeChainError(error)}); retrying every round.`, {
        pendingAtomic: pending.toString(),
      });
      return "paused";
    }
    const figures = { walletBalanceAtomic: usdc.toString(), pendingAtomic: pending.toString(), gasBalanceWei: gas.toString() };
    if (gas < deps.minGasWei) {
      pause(
        n,
        chain,
        "insufficient_gas",
        `payout wallet ${chain.wallet} has ${gas} wei of gas, below PAYOUT_MIN_GAS_WEI (${deps.minGasWei}). ` +
          "Send it native gas; votes are still accepted and nothing owed is lost.",
        figures,
      );
      return "paused";
    }
    if (usdc < pending) {
      pause(
        n,
        chain,
        "insufficient_usdc",
        `payout wallet ${chain.wallet} holds ${formatUsdc(usdc)} USDC but pending payouts need ${formatUsdc(pending)} USDC. ` +
          "Fund it; votes are still accepted and nothing owed is lost.",
        figures,
      );
      return "paused";
    }
    setHealth(n, { state: "active", wallet: chain.wallet, ...figures, checkedAt: at() });
    return "active";
  };

  const waitForReceipt = async (chain: PayoutChain, hash: Hex): Promise<PayoutReceipt | undefined> => {
    const deadline = Date.now() + receiptTimeoutMs;
    for (;;) {
      const receipt = await chain.receipt(hash);
      if (receipt) return receipt;
      if (Date.now() >= deadline || controller.signal.aborted) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, chain.pollIntervalMs);
        controller.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
    }
  };

  /** Records what a receipt says: confirmed, or failed with the entries released. */
  const recordReceipt = async (n: PayoutNetwork, row: PayoutRow, receipt: PayoutReceipt): Promise<SendOutcome> => {
    crash("after_receipt");
    const blockNumber = Number(receipt.blockNumber);
    if (receipt.status === "success") {
      await store.batch([markConfirmed(db, row.id, blockNumber, at())]);
      crash("after_confirm");
      log(`${transferName(row)}: ${formatUsdc(BigInt(row.amount_atomic))} USDC to ${row.address} on ${n.label} confirmed (tx ${row.tx_hash})`, {
        network: n.network,
        payoutId: row.id,
        txHash: row.tx_hash,
      });
      await deps.onConfirmed?.().catch(() => undefined);
      return "confirmed";
    }
    await store.batch(failAndReleaseStatements(db, row.id, "reverted", blockNumber, at()));
    log(`${transferName(row)}: tx ${row.tx_hash} reverted on ${n.label}; ${afterFailure(row)}`, {
      level: "warn",
      network: n.network,
      payoutId: row.id,
    });
    return "failed";
  };

  /**
   * Broadcasts a recorded signed transaction (the first time or again) and waits for its receipt.
   * Never signs anything: whatever happens, the transaction on chain can only be `row.signed_tx`.
   */
  const broadcastAndSettle = async (n: PayoutNetwork, chain: PayoutChain, row: PayoutRow): Promise<SendOutcome> => {
    const hash = row.tx_hash as Hex;
    try {
      await chain.broadcast(row.signed_tx as Hex);
    } catch (error) {
      // "already known" / "already imported" (pending) or "nonce too low" (mined): the node has it.
      if (!(await chain.knows(hash))) {
        const { latest } = await chain.nonces((row.from_address ?? chain.wallet) as Address);
        if (row.nonce !== null && latest > row.nonce) {
          // The nonce is used on chain. Mined in the meantime? Else another transaction took the nonce
          // and ours can never be mined: no money moved, release the entries — once that has held for
          // the grace period (the receipt is looked up last, after the nonce).
          const receipt = await chain.receipt(hash);
          if (receipt) return recordReceipt(n, row, receipt);
          const since = nonceUsedSince.get(row.id) ?? Date.now();
          nonceUsedSince.set(row.id, since);
          if (Date.now() - since < nonceReuseGraceMs) {
            log(`${transferName(row)}: nonce ${row.nonce} is used on chain but tx ${hash} has no receipt; checking again before releasing it`, {
              level: "warn",
              network: n.network,
              payoutId: row.id,
            });
            return "refused";
          }
          nonceUsedSince.delete(row.id);
          await store.batch(failAndReleaseStatements(db, row.id, "nonce_used_by_another_transaction", null, at()));
          log(
            `${transferName(row)}: nonce ${row.nonce} of ${chain.wallet} was used by another transaction and tx ${hash} did not get mined; ` +
              `${afterFailure(row)} (is another process using the payout wallet?)`,
            { level: "warn", network: n.network, payoutId: row.id },
          );
          return "failed";
        }
        const reason = describeChainError(error);
        log(`${transferName(row)}: the node refused tx ${hash} (${reason}); the same transaction is retried next round`, {
          level: "warn",
          network: n.network,
          payoutId: row.id,
        });
        if (/insufficient funds/i.test(reason)) {
          pause(n, chain, "insufficient_gas", `payout wallet ${chain.wallet} cannot pay the gas of tx ${hash}: ${reason}. Send it native gas.`);
        }
        return "refused";
      }
    }
    crash("after_broadcast");
    await store.batch([markSent(db, row.id, at())]);
    const receipt = await waitForReceipt(chain, hash);
    if (!receipt) {
      if (!controller.signal.aborted) {
        log(`${transferName(row)}: tx ${hash} (nonce ${row.nonce}) not mined after ${receiptTimeoutMs / 1000} s; the same transaction is re-broadcast next round`, {
          level: "warn",
          network: n.network,
          payoutId: row.id,
        });
      }
      return "waiting";
    }
    return recordReceipt(n, row, receipt);
  };

  /** Step 1: "clear" when nothing is left in flight on this network. */
  const settleInFlight = async (n: PayoutNetwork, chain: PayoutChain): Promise<"clear" | "waiting" | "refused"> => {
    for (const row of await findInFlight(db, n.network)) {
      if (controller.signal.aborted) return "waiting";
      const receipt = await chain.receipt(row.tx_hash as Hex);
      const outcome = receipt ? await recordReceipt(n, row, receipt) : await broadcastAndSettle(n, chain, row);
      if (outcome === "waiting" || outcome === "refused") return outcome;
    }
    return "clear";
  };

  /** Step 2. */
  const claimOverThreshold = async (n: PayoutNetwork) => {
    const due = await addressesOverThreshold(db, n.network, deps.thresholdAtomic, THRESHOLD_CLAIMS_PER_ROUND);
    for (const { address } of due) {
      const claimed = await claimPayout(store, {
        id: randomUUID(),
        address,
        network: n.network,
        trigger: "threshold",
        minAtomic: deps.thresholdAtomic,
        at: at(),
      });
      if (claimed) crash("after_claim");
    }
  };

  /**
   * The gas estimate of a claimed payout reverted. A transfer of the same amount back to the wallet is
   * estimated too: when it also reverts, the token refuses the wallet (blacklisted, token paused…) and
   * every payout would fail alike, so the network pauses; otherwise this recipient is the problem and
   * the payout is parked, its entries kept for it, and the queue moves on.
   */
  const refusedByToken = async (n: PayoutNetwork, chain: PayoutChain, row: PayoutRow, error: unknown): Promise<SendOutcome> => {
    const reason = revertReason(error);
    try {
      await chain.planTransfer(chain.wallet, BigInt(row.amount_atomic));
    } catch (control) {
      if (!isExecutionRevert(control)) throw control;
      pause(
        n,
        chain,
        "token_refuses_transfers",
        `the token refuses transfers from payout wallet ${chain.wallet} (${revertReason(control)}); nothing is parked or lost, retrying every round.`,
      );
      return "paused";
    }
    const [result] = await store.batch([parkStatement(db, row.id, reason, at())]);
    if ((result?.changes ?? 0) !== 1) return "lost"; // another worker moved it on first
    log(
      `${transferName(row)}: ${formatUsdc(BigInt(row.amount_atomic))} USDC to ${row.address} on ${n.label} parked: the token refuses the transfer (${reason}). ` +
        `${row.kind === "refund" ? "It stays owed to the payer" : "Its votes stay owed to that address"}; the next payouts go ahead. ` +
        "`npm run payouts -- list` shows it; retry or release it there.",
      { level: "warn", network: n.network, payoutId: row.id },
    );
    return "parked";
  };

  /** Step 4 for one claimed payout. */
  const send = async (n: PayoutNetwork, chain: PayoutChain, row: PayoutRow): Promise<SendOutcome> => {
    const amount = BigInt(row.amount_atomic);
    const to = row.address as Address;
    const [usdc, gas] = await Promise.all([chain.usdcBalance(), chain.gasBalance()]);
    if (usdc < amount) {
      pause(n, chain, "insufficient_usdc", `payout wallet ${chain.wallet} holds ${formatUsdc(usdc)} USDC, ${transferName(row)} needs ${formatUsdc(amount)} USDC. Fund it.`, {
        walletBalanceAtomic: usdc.toString(),
        gasBalanceWei: gas.toString(),
      });
      return "paused";
    }
    let plan: TransferPlan;
    try {
      plan = await chain.planTransfer(to, amount);
    } catch (error) {
      if (!isExecutionRevert(error)) throw error; // the RPC failed: nothing is known about the transfer
      return refusedByToken(n, chain, row, error);
    }
    const gasCost = plan.gas * plan.maxFeePerGas;
    if (gas < deps.minGasWei || gas < gasCost) {
      pause(n, chain, "insufficient_gas", `payout wallet ${chain.wallet} has ${gas} wei of gas; a transfer may cost up to ${gasCost} wei. Send it native gas.`, {
        walletBalanceAtomic: usdc.toString(),
        gasBalanceWei: gas.toString(),
      });
      return "paused";
    }
    // Never reuse a nonce already recorded on a payout, even if the node forgot the transaction.
    const { pending } = await chain.nonces();
    const nonce = Math.max(pending, (await maxRecordedNonce(db, n.network, chain.wallet)) + 1);
    const signed = await chain.signTransfer({ to, amount, nonce, ...plan });
    const signedAt = at();
    try {
      const [result] = await store.batch([
        recordSigned(db, { id: row.id, fromAddress: chain.wallet, token: chain.token, nonce, signedTx: signed.signedTx, txHash: signed.txHash, at: signedAt }),
      ]);
      // 0 rows: another worker signed this payout first; ours is not broadcast and is forgotten.
      if ((result?.changes ?? 0) !== 1) return "lost";
    } catch (error) {
      if (isUniqueViolation(error)) return "lost"; // another worker recorded this nonce first
      throw error;
    }
    crash("after_sign");
    return broadcastAndSettle(n, chain, {
      ...row,
      status: "signed",
      from_address: chain.wallet,
      token: chain.token,
      nonce,
      signed_tx: signed.signedTx,
      tx_hash: signed.txHash,
      signed_at: signedAt,
    });
  };

  /** Step 2, refunds: ended polls of this network that owe one get it queued (a network without a wallet too: it shows as pending). */
  const queueRefunds = async (n: PayoutNetwork) => {
    const queued = await queueOwedRefunds(store, deps.now(), n.network);
    if (queued === 0) return;
    log(`refunds: queued ${queued} refund(s) of unfilled responses on ${n.label}`, { network: n.network });
    crash("after_claim");
  };

  const round = async (n: PayoutNetwork) => {
    const chain = n.chain;
    if (!chain) {
      await queueRefunds(n);
      const previous = healthByNetwork.get(n.network)!;
      healthByNetwork.set(n.network, { ...previous, pendingAtomic: (await pendingAtomic(db, n.network)).toString(), checkedAt: at() });
      return;
    }
    let inFlight: "clear" | "waiting" | "refused";
    try {
      inFlight = await settleInFlight(n, chain);
    } catch (error) {
      pause(n, chain, "rpc_unavailable", `could not settle in-flight payouts: ${describeChainError(error)}; retrying every round.`);
      return;
    }
    await queueRefunds(n);
    await claimOverThreshold(n);
    // A re-broadcast the node refused keeps whatever state it set (e.g. paused for gas) until it goes through.
    if (inFlight === "refused") return;
    if ((await checkWallet(n, chain)) === "paused" || inFlight !== "clear") return;
    while (!controller.signal.aborted) {
      const next = await findNextClaimed(db, n.network);
      if (!next) break;
      const outcome = await send(n, chain, next).catch((error: unknown) => {
        log(`${transferName(next)}: not sent this round: ${describeChainError(error)}`, { level: "warn", network: n.network, payoutId: next.id });
        return "waiting" as const;
      });
      if (outcome === "paused") return; // health already says why
      if (outcome !== "confirmed" && outcome !== "failed" && outcome !== "parked") break;
    }
    await checkWallet(n, chain);
  };

  const refreshParked = async (n: PayoutNetwork) => {
    const summary = await parkedSummary(db, n.network);
    parkedByNetwork.set(n.network, { count: summary.count, amountAtomic: summary.amountAtomic.toString(), oldest: summary.oldest });
  };

  // One runner per network: a kick during a round asks for one more round after it.
  const runners = new Map(
    deps.networks.map((n) => [
      n.network,
      serialRunner(
        // A database hiccup in refreshParked leaves the previous figures.
        () => round(n).finally(() => refreshParked(n).catch(() => undefined)),
        (error) => log(`payout round on ${n.label} failed: ${error instanceof Error ? error.message : String(error)}`, { level: "error", network: n.network }),
      ),
    ]),
  );

  return {
    networks: deps.networks,
    thresholdAtomic: deps.thresholdAtomic,
    async kick(network) {
      await Promise.all([...runners].filter(([name]) => network === undefined || name === network).map(([, runner]) => runner.run()));
    },
    health: () =>
      Object.fromEntries([...healthByNetwork].map(([network, health]) => [network, { ...health, parked: parkedByNetwork.get(network) ?? NOTHING_PARKED }])),
    async stop() {
      controller.abort();
      await Promise.all([...runners.values()].map((runner) => runner.stop()));
    },
  };
}

/** Runs the worker every `intervalMs` (and once now); returns a stop function. */
export function schedulePayouts(worker: PayoutWorker, intervalMs: number, log: PayoutLog): () => Promise<void> {
  const tick = () => {
    worker.kick().catch((error: unknown) => log(`payouts failed: ${String(error)}`, { level: "error" }));
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  tick();
  return async () => {
    clearInterval(timer);
    await worker.stop();
  };
}
