// JSON answers and documents get different security headers (src/http/hardening.ts). The split must never
// cost a protection: the peers' headers (HSTS over https included) stay on every response, and anything
// that is not JSON — a page, a script, a stylesheet — keeps the pages' full policy.
import { describe, expect, it } from "vitest";
import { API_CONTENT_SECURITY_POLICY, securityHeaderSets } from "../src/http/hardening";
import { isJsonContentType } from "../src/http/response-headers";

describe("which answers count as JSON", () => {
  it("is application/json with or without parameters, any case, and structured +json types", () => {
    for (const type of ["application/json", "application/json; charset=UTF-8", "Application/JSON", "application/problem+json"]) {
      expect(isJsonContentType(type), type).toBe(true);
    }
  });

  it("is nothing a browser could run or render as a document", () => {
    for (const type of [undefined, null, "", "text/html; charset=UTF-8", "application/javascript", "text/javascript", "text/css", "image/svg+xml", "application/jsonp", "text/json+html"]) {
      expect(isJsonContentType(type), String(type)).toBe(false);
    }
  });
});

describe("the two header sets", () => {
  it("keep HSTS and the peers' headers on JSON answers over https", async () => {
    const { everyResponse, documentOnly } = await securityHeaderSets({ https: true });
    expect(everyResponse).toMatchObject({
      "strict-transport-security": "max-age=31536000; includeSubDomains",
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "x-xss-protection": "1; mode=block",
      "referrer-policy": "strict-origin-when-cross-origin",
      "permissions-policy": "camera=(), microphone=(), geolocation=()",
      "content-security-policy": API_CONTENT_SECURITY_POLICY,
    });
    expect(documentOnly["strict-transport-security"]).toBeUndefined();
    // A document's own CSP replaces the API's one: it must still forbid framing.
    expect(documentOnly["content-security-policy"]).toContain("frame-ancestors 'none'");
  });

  it("send no HSTS over plain http", async () => {
    const { everyResponse, documentOnly } = await securityHeaderSets({ https: false });
    expect(everyResponse["strict-transport-security"]).toBeUndefined();
    expect(documentOnly["strict-transport-security"]).toBeUndefined();
  });
});
