// Outgoing transfers on Cloudflare Workers. One Durable Object per payout network (its id derives from the
// network's name, so there is exactly one) runs the payout rounds of job.ts for that network — one wallet,
// one nonce sequence, one runner — with the same states, exactly-once rules, crash reconciliation and
// wallet monitoring as on Node. Its alarm drives it: a round, then the next alarm one payout interval
// later. The cron and a payout request only poke it (alarm now). Durable Objects interleave requests at
// every await, so the round is single-flight inside the object: the job's serial runner, which turns a
// poke during a round into one more round after it, and the alarm, which never runs twice at once.
// Behind this, as on Node, the database still refuses a second signature for a payout (guarded
// claimed → signed, one nonce per wallet): an object evicted mid-round can never pay twice.
import type { DurableObjectId, DurableObjectNamespace, DurableObjectState } from "@cloudflare/workers-types/latest";
import type { Store } from "../db/store";
import { createPayoutWorker, healthBeforeFirstRound, type PayoutHealth, type PayoutLog, type PayoutNetwork, type PayoutWorker } from "./job";

/** The Durable Object binding's name in wrangler.toml. */
export const PAYOUT_RUNNER_BINDING = "PAYOUT_RUNNER";

/** What /healthz shows per network on Workers: Node's entry, plus the runner's own schedule. */
export type RunnerHealth = PayoutHealth & {
  runner: {
    kind: "durable_object";
    /** When its last round ended (null: none since the object was created). */
    lastRoundAt: string | null;
    /** Its alarm: when the next round runs. */
    nextRoundAt: string | null;
    /** Set when the object could not be asked (the entry then shows the configuration only). */
    error?: string;
  };
};

export interface PayoutRunnerDeps {
  store: Store;
  /** Every payout network of the deployment (productionPayoutNetworks); the object runs the one it is named after. */
  networks: readonly PayoutNetwork[];
  thresholdAtomic: bigint;
  minGasWei: bigint;
  intervalMs: number;
  /** The id of the object for a network: a poke naming another network than the object's is refused. */
  idOf: (network: string) => DurableObjectId;
  now: () => Date;
  log: PayoutLog;
}

const NETWORK_KEY = "network";
const LAST_ROUND_KEY = "lastRoundAt";
const HEALTH_KEY = "health";

/** The body of the Durable Object class (src/worker.ts declares the class and builds the deps from its env). */
export interface PayoutRunnerObject {
  fetch(request: Request): Promise<Response>;
  alarm(): Promise<void>;
}

export function payoutRunnerObject(state: DurableObjectState, deps: () => PayoutRunnerDeps): PayoutRunnerObject {
  const { storage } = state;
  let built: { deps: PayoutRunnerDeps; network: PayoutNetwork; worker: PayoutWorker } | undefined;
  let inRound = false;

  /** The job for this object's network, built once (the configuration is read on first use). */
  const runnerFor = (name: string) => {
    if (built) return built;
    const d = deps();
    const network = d.networks.find((n) => n.network === name);
    if (!network) return undefined;
    const worker = createPayoutWorker({ store: d.store, networks: [network], thresholdAtomic: d.thresholdAtomic, minGasWei: d.minGasWei, now: d.now, log: d.log });
    built = { deps: d, network, worker };
    return built;
  };

  const health = async (): Promise<RunnerHealth | undefined> => {
    const name = await storage.get<string>(NETWORK_KEY);
    if (!name) return undefined;
    const runner = runnerFor(name);
    if (!runner) return undefined;
    const [lastRoundAt, stored, alarm] = await Promise.all([storage.get<string>(LAST_ROUND_KEY), storage.get<PayoutHealth>(HEALTH_KEY), storage.getAlarm()]);
    const live = (await runner.worker.health())[name]!;
    // An object evicted since its last round knows nothing yet: show what that round found.
    const current = live.checkedAt === null && stored ? stored : live;
    return { ...current, runner: { kind: "durable_object", lastRoundAt: lastRoundAt ?? null, nextRoundAt: alarm === null ? null : new Date(alarm).toISOString() } };
  };

  return {
    async fetch(request) {
      const url = new URL(request.url);
      if (request.method === "POST" && url.pathname === "/poke") {
        const name = url.searchParams.get("network") ?? "";
        let d: PayoutRunnerDeps;
        try {
          d = deps();
        } catch (error) {
          // Misconfigured (the Worker logs the configuration's problems): nothing to run until it is fixed.
          return Response.json({ error: error instanceof Error ? error.message : String(error) }, { status: 503 });
        }
        if (!d.networks.some((n) => n.network === name) || !d.idOf(name).equals(state.id)) {
          return Response.json({ error: `this runner does not run ${name}` }, { status: 400 });
        }
        await storage.put(NETWORK_KEY, name);
        if (inRound) {
          // One more round right after this one (the job's serial runner); the alarm awaits it.
          void runnerFor(name)?.worker.kick(name);
          return Response.json({ network: name, round: "queued after the current one" }, { status: 202 });
        }
        await storage.setAlarm(Date.now());
        return Response.json({ network: name, round: "now" }, { status: 202 });
      }
      if (request.method === "GET" && url.pathname === "/health") {
        const report = await health();
        return report ? Response.json(report) : Response.json({ error: "never poked" }, { status: 404 });
      }
      return Response.json({ error: "not found" }, { status: 404 });
    },

    async alarm() {
      inRound = true;
      let intervalMs: number | undefined;
      let rescheduled = false;
      try {
        const name = await storage.get<string>(NETWORK_KEY);
        const runner = name ? runnerFor(name) : undefined;
        if (!name || !runner) return; // never poked, or the network is no longer enabled: no next alarm
        intervalMs = runner.deps.intervalMs;
        await runner.worker.kick(name);
        // The next round first, then the record of this one: whoever sees this round also sees the next.
        inRound = false;
        await storage.setAlarm(Date.now() + intervalMs);
        rescheduled = true;
        await storage.put({ [LAST_ROUND_KEY]: runner.deps.now().toISOString(), [HEALTH_KEY]: (await runner.worker.health())[name] });
      } finally {
        inRound = false;
        // A round that threw is retried at the next interval, like on Node (the job logs why).
        if (intervalMs !== undefined && !rescheduled) await storage.setAlarm(Date.now() + intervalMs);
      }
    },
  };
}

export interface DurableObjectPayoutsOptions {
  namespace: DurableObjectNamespace;
  /** productionPayoutNetworks(): networks without a wallet are run too (their refunds queued, their pending shown). */
  networks: readonly PayoutNetwork[];
  thresholdAtomic: bigint;
  /** Keeps a poke alive after the response (ctx.waitUntil of the request that made it). */
  background?: (work: Promise<unknown>) => void;
  log: PayoutLog;
}

/** How long /healthz waits for a runner's answer. */
const HEALTH_TIMEOUT_MS = 3_000;
const RUNNER_ORIGIN = "https://payout-runner";

/**
 * The payout worker as the Worker's app sees it: the same interface as on Node, each network's runner
 * being its Durable Object. kick() resolves once the objects took the poke (the round runs in their alarm).
 */
export function durableObjectPayouts(options: DurableObjectPayoutsOptions): PayoutWorker & { poke(): Promise<Record<string, string>> } {
  const { namespace, networks, log } = options;
  const stubOf = (network: string) => namespace.get(namespace.idFromName(network));
  const poke = async (network: string): Promise<string> => {
    const response = await stubOf(network).fetch(`${RUNNER_ORIGIN}/poke?network=${encodeURIComponent(network)}`, { method: "POST" });
    const body = (await response.json()) as { round?: string; error?: string };
    if (!response.ok) throw new Error(body.error ?? `the payout runner answered ${response.status}`);
    return body.round ?? "now";
  };
  const pokeAll = async (network?: string): Promise<Record<string, string>> => {
    const chosen = networks.filter((n) => network === undefined || n.network === network);
    const answers = await Promise.all(
      chosen.map(async (n) => {
        try {
          return [n.network, await poke(n.network)] as const;
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          log(`payouts: could not reach the payout runner of ${n.label} (${n.network}): ${message}`, { level: "error", network: n.network });
          return [n.network, `error: ${message}`] as const;
        }
      }),
    );
    return Object.fromEntries(answers);
  };
  const fallbackHealth = (n: PayoutNetwork, error: string): RunnerHealth => ({
    ...healthBeforeFirstRound(n),
    parked: { count: 0, amountAtomic: "0", oldest: null },
    runner: { kind: "durable_object", lastRoundAt: null, nextRoundAt: null, error },
  });
  return {
    networks,
    thresholdAtomic: options.thresholdAtomic,
    kick(network) {
      const work = pokeAll(network).then(() => undefined);
      options.background?.(work);
      return work;
    },
    poke: () => pokeAll(),
    async health() {
      const entries = await Promise.all(
        networks.map(async (n): Promise<[string, RunnerHealth]> => {
          try {
            const response = await withTimeout(stubOf(n.network).fetch(`${RUNNER_ORIGIN}/health`), HEALTH_TIMEOUT_MS);
            if (response.status === 404) return [n.network, fallbackHealth(n, "no round yet (the cron starts the runner within a minute)")];
            if (!response.ok) return [n.network, fallbackHealth(n, `the runner answered ${response.status}`)];
            return [n.network, (await response.json()) as RunnerHealth];
          } catch (error) {
            return [n.network, fallbackHealth(n, error instanceof Error ? error.message : String(error))];
          }
        }),
      );
      return Object.fromEntries(entries);
    },
    async stop() {
      // Nothing runs in this isolate: the objects carry on.
    },
  };
}

/** `work`, or a rejection after `ms` (the liveness probe never hangs on a busy runner). */
function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
