// createApp(deps): composes the feature routers. No I/O at import time and no globals: the
// composition root (server.ts, worker.ts, tests) builds every dependency once and passes it in.
import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ConfigProblem, Mode } from "./config";
import type { Store } from "./db/store";
import { ApiError, errorBody } from "./http/errors";
import { validationError } from "./http/validation";
import type { Moderator } from "./moderation/moderator";
import type { NetworkSpec } from "./payment/networks";
import type { PaymentServer } from "./payment/payment-server";
import { registerQuote } from "./payment/quote";
import { registerCreatePoll } from "./polls/create";
import { registerReadPoll } from "./polls/read";
import type { ReadTokens } from "./polls/read-token";

export interface AppDeps {
  mode: Mode;
  publicBaseUrl: string;
  problems: readonly ConfigProblem[];
  store: Store;
  payments: PaymentServer | undefined;
  knownNetworks: readonly NetworkSpec[];
  moderator: Moderator | undefined;
  readTokens: ReadTokens | undefined;
  now?: () => Date;
  onSettled?: () => Promise<void>;
  log?: (message: string) => void;
}

export function createApp(deps: AppDeps): OpenAPIHono {
  const now = deps.now ?? (() => new Date());
  const log = deps.log ?? ((message: string) => console.log(message));
  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) return c.json(validationError(result.error).toBody(), 400);
      return undefined;
    },
  });

  app.onError((error, c) => {
    if (error instanceof ApiError) return c.json(error.toBody(), error.status);
    if (error instanceof HTTPException) {
      const status = error.status as ContentfulStatusCode;
      const code = status === 413 ? "payload_too_large" : status >= 500 ? "internal_error" : "validation_error";
      return c.json(errorBody(code, error.message || "Request rejected."), status);
    }
    log(`unhandled error on ${c.req.method} ${c.req.path}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return c.json(errorBody("internal_error", "Something went wrong on our side."), 500);
  });
  app.notFound((c) => c.json(errorBody("not_found", `No route for ${c.req.method} ${c.req.path}.`), 404));

  registerQuote(app, { payments: deps.payments, knownNetworks: deps.knownNetworks, problems: deps.problems });
  registerCreatePoll(app, {
    store: deps.store,
    mode: deps.mode,
    publicBaseUrl: deps.publicBaseUrl,
    payments: deps.payments,
    moderator: deps.moderator,
    readTokens: deps.readTokens,
    problems: deps.problems,
    now,
    log,
    ...(deps.onSettled ? { onSettled: deps.onSettled } : {}),
  });
  registerReadPoll(app, { store: deps.store, publicBaseUrl: deps.publicBaseUrl, now });

  app.get("/healthz", (c) => c.json({ status: "ok", mode: deps.mode }));
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Quali-compatible paid polls for AI agents",
      version: "1.0.0",
      description: "Ask World ID-verified humans a question; pay per response in USDC with x402 V2.",
    },
    servers: [{ url: deps.publicBaseUrl }],
  });
  return app;
}
