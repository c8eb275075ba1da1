// Who may call /admin/api/v1/*: the holder of ADMIN_TOKEN, as `Authorization: Bearer <token>`. Off when the
// token is unset (503 admin_not_configured: the documented convention for unconfigured features). The
// presented token is compared in constant time (digests of equal length, timingSafeEqual), and never
// written anywhere: a refusal is logged with its request id and why, not with what was sent.
import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/errors";
import { requestIdOf } from "../http/hardening";
import type { Logger } from "../http/logger";

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();

/** The bearer token of the request, if any (Authorization: Bearer <token>). */
export function presentedAdminToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header?.trim() ?? "")?.[1];
}

/** A constant-time check of a presented token against the configured one (independent of both lengths). */
export function adminTokenMatches(expected: string, presented: string): boolean {
  return timingSafeEqual(digest(expected), digest(presented));
}

export function adminAuth(token: string | undefined, log: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (token === undefined) {
      throw new ApiError(503, "admin_not_configured", "The admin API is off: set ADMIN_TOKEN (32+ characters) on the server to turn it on.");
    }
    const presented = presentedAdminToken(c.req.header("authorization"));
    if (presented === undefined) {
      log("admin request refused", { level: "warn", requestId: requestIdOf(c), path: c.req.path, why: "no admin token" });
      throw new ApiError(401, "admin_token_missing", "Send the admin token as Authorization: Bearer <ADMIN_TOKEN>.");
    }
    if (!adminTokenMatches(token, presented)) {
      log("admin request refused", { level: "warn", requestId: requestIdOf(c), path: c.req.path, why: "wrong admin token" });
      throw new ApiError(403, "admin_token_invalid", "This admin token is not the server's ADMIN_TOKEN.");
    }
    await next();
  };
}
