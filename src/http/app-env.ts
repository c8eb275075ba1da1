// The one Env every router of the app shares: what the edge middleware and the route guards put on the
// request context, typed, so no handler reads an untyped context key.
import { OpenAPIHono } from "@hono/zod-openapi";
import type { HeaderBag } from "./response-headers";
import { validationError } from "./validation";

export interface AppVariables {
  /** Set by requestEdge on every request; log lines written while serving it carry it. */
  requestId: string;
  /** The response headers gathered for this request (src/http/response-headers.ts). */
  responseHeaders: HeaderBag;
  /** The voter (payout address, lower case) a voter write counts against, once its body named one. */
  voterKey: string | undefined;
}

export interface AppEnv {
  Variables: AppVariables;
}

/**
 * A feature's router: an OpenAPIHono whose validation failures answer the one error envelope. Features
 * export one (or a factory of one) and app.ts mounts it with `app.route`.
 */
export function createRouter<E extends AppEnv = AppEnv>(): OpenAPIHono<E> {
  return new OpenAPIHono<E>({
    defaultHook: (result, c) => {
      if (!result.success) return c.json(validationError(result.error).toBody(), 400);
      return undefined;
    },
  });
}
