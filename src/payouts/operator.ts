// What an operator can do with parked payouts (`npm run payouts -- list | retry <id> | release <id>`).
// Each change is one guarded batch that only applies to a payout still parked, so it is safe while the
// service runs: the job never touches a parked payout, and nobody signed a parked payout, so no
// transaction of it exists — retrying can pay it at most once, releasing moves no money.
//
//   retry    parked → claimed: the job estimates the transfer again in its next round (oldest claimed
//            first); it is paid, or parked again with the new reason.
//   release  parked → failed ("released") and its ledger entries back to unpaid: they are paid by the
//            address's next payout (threshold or request), together with anything newer. If the token
//            still refuses the address, that payout is parked again: the units stay owed to that
//            address, never to anyone else.
import type { PayoutRow } from "../db/schema";
import type { Store } from "../db/store";
import { findParked, findPayout, releaseParkedStatements, retryParkedStatement } from "./repo";

export type ParkedChange = { ok: true; payout: PayoutRow } | { ok: false; why: string };

export function listParked(store: Store, network?: string): Promise<PayoutRow[]> {
  return findParked(store.db, network);
}

async function change(store: Store, id: string, statements: Parameters<Store["batch"]>[0]): Promise<ParkedChange> {
  const before = await findPayout(store.db, id);
  if (!before) return { ok: false, why: `no payout has id ${id}` };
  if (before.status !== "parked") return { ok: false, why: `payout ${id} is ${before.status}, not parked` };
  const [result] = await store.batch(statements);
  const after = (await findPayout(store.db, id))!;
  if ((result?.changes ?? 0) !== 1) return { ok: false, why: `payout ${id} changed meanwhile: it is ${after.status}` };
  return { ok: true, payout: after };
}

export function retryParked(store: Store, id: string, at: Date): Promise<ParkedChange> {
  return change(store, id, [retryParkedStatement(store.db, id, at.toISOString())]);
}

export function releaseParked(store: Store, id: string, at: Date): Promise<ParkedChange> {
  return change(store, id, releaseParkedStatements(store.db, id, at.toISOString()));
}
