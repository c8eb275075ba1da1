// The simulated World ID portal (./portal.ts) served over HTTP, speaking the Developer Portal's v4 verify
// wire format, so the production verifier's client code can be exercised against a real server —
// including its failure modes (500, 503, 429, a portal that never answers, one that is down). Tests start
// it and point WORLD_ID_VERIFY_BASE_URL at it; it also runs as its own process (./standin-cli.ts).
// Local mode itself answers in process and never starts it.
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createSimulatedPortal, type PortalControls, type SimulatedPortalOptions } from "./portal";

export type { PortalMode as WorldIdStandinMode, PortalRelyingParty as StandinRelyingParty, RecordedVerifyRequest } from "./portal";

export interface WorldIdStandinOptions extends SimulatedPortalOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
}

export interface WorldIdStandin extends PortalControls {
  /** Base URL for WORLD_ID_VERIFY_BASE_URL (no trailing slash). */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startWorldIdStandin(options: WorldIdStandinOptions): Promise<WorldIdStandin> {
  const portal = createSimulatedPortal(options);
  const stalled = new Set<ServerResponse>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      try {
        const path = (req.url ?? "/").split("?")[0] ?? "/";
        const answer = portal.answer(req.method ?? "", path, Buffer.concat(chunks).toString("utf8"));
        if (answer === "stall") {
          stalled.add(res);
          res.on("close", () => stalled.delete(res));
          return;
        }
        res.writeHead(answer.status, { "content-type": "application/json" });
        res.end(JSON.stringify(answer.body));
      } catch (error) {
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ success: false, code: "internal_error", detail: `stand-in failure: ${String(error)}` }));
      }
    });
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    requests: portal.requests,
    setMode: portal.setMode,
    close() {
      closing ??= (async () => {
        for (const res of stalled) res.destroy();
        stalled.clear();
        const closed = new Promise<void>((done) => server.close(() => done()));
        server.closeAllConnections();
        await closed;
      })();
      return closing;
    },
  };
}
