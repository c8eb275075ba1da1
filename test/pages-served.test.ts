// The human pages are static files served by the app (src/pages): page routes map to their HTML, which
// never collides with the JSON API; cache headers (HTML revalidated, assets short, vendored builds
// immutable under their version); only the listed vendored files are reachable; every page is
// CSP-compatible (no inline script or handler) and small.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pageFileFor, VENDORED } from "../src/pages";
import { installedPackage, PUBLIC_DIR } from "../src/pages/static-node";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, type CreatedPoll } from "./support/polls";

let service: LocalService;
let poll: CreatedPoll;

beforeAll(async () => {
  service = await startLocalService();
  poll = await createPaidPoll(service);
});
afterAll(async () => {
  await service?.stop();
});

const fetchPath = (path: string) => fetch(`${service.url}${path}`);

describe("pages", () => {
  it("serves each page route as HTML (no-cache), distinct from the JSON API", async () => {
    for (const [path, title] of [
      ["/", "Open polls"],
      [`/polls/${poll.id}`, "Poll"],
      [`/polls/${poll.id}/results`, "Poll results"],
      ["/rewards", "Your rewards"],
    ] as const) {
      const response = await fetchPath(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/html/);
      expect(response.headers.get("cache-control")).toBe("no-cache");
      expect(await response.text()).toContain(`<title>${title}`);
    }
    const api = await fetchPath(`/api/v1/polls/${poll.id}`);
    expect(api.headers.get("content-type")).toMatch(/^application\/json/);
    expect(((await api.json()) as { id: string }).id).toBe(poll.id);
    // The API's url field is the voter page.
    expect(((await (await fetchPath(`/api/v1/voter/polls/${poll.id}`)).json()) as { url: string }).url).toBe(`${service.url}/polls/${poll.id}`);
  });

  it("maps only the page routes to files", () => {
    expect(pageFileFor("/")).toBe("/index.html");
    expect(pageFileFor("/polls/abc")).toBe("/poll.html");
    expect(pageFileFor("/polls/abc/results")).toBe("/results.html");
    expect(pageFileFor("/rewards")).toBe("/rewards.html");
    for (const other of ["/index.html", "/polls", "/polls/a/b", "/api/v1/polls/abc", "/polls/abc/results/x"]) expect(pageFileFor(other)).toBeUndefined();
  });

  it("serves assets with a short cache, vendored builds immutably, and nothing else", async () => {
    const css = await fetchPath("/assets/app.css");
    expect(css.status).toBe(200);
    expect(css.headers.get("content-type")).toMatch(/^text\/css/);
    expect(css.headers.get("cache-control")).toBe("public, max-age=300");
    const js = await fetchPath("/assets/poll.js");
    expect(js.headers.get("content-type")).toMatch(/^text\/javascript/);

    for (const vendored of VENDORED) {
      const { version } = installedPackage(vendored.packageName);
      for (const file of vendored.files) {
        const response = await fetchPath(`/vendor/${vendored.name}/${version}/${file}`);
        expect(response.status, file).toBe(200);
        expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
        if (file.endsWith(".wasm")) expect(response.headers.get("content-type")).toBe("application/wasm");
        await response.arrayBuffer();
      }
      // Another version, another file of the package, a traversal: 404.
      for (const path of [`/vendor/${vendored.name}/0.0.0/${vendored.files[0]}`, `/vendor/${vendored.name}/${version}/package.json`, `/vendor/${vendored.name}/${version}/../package.json`]) {
        expect((await fetchPath(path)).status, path).toBe(404);
      }
    }
    for (const path of ["/index.html", "/poll.html", "/assets/missing.js", "/assets/../package.json", "/vendor/x"]) {
      const response = await fetchPath(path);
      expect(response.status, path).toBe(404);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    }
  });

  it("pages reference the vendored versions that are installed", () => {
    const pollJs = readFileSync(join(PUBLIC_DIR, "assets/poll.js"), "utf8");
    const qrJs = readFileSync(join(PUBLIC_DIR, "assets/qr.js"), "utf8");
    expect(pollJs).toContain(`IDKIT_VERSION = "${installedPackage("@worldcoin/idkit-core").version}"`);
    expect(qrJs).toContain(`/vendor/uqr/${installedPackage("uqr").version}/index.mjs`);
  });

  it("pages have no inline scripts or handlers (CSP script-src 'self'), a lang, and stay small", () => {
    let scriptBytes = 0;
    for (const file of readdirSync(PUBLIC_DIR)) {
      if (!file.endsWith(".html")) continue;
      const html = readFileSync(join(PUBLIC_DIR, file), "utf8");
      expect(html, file).toMatch(/<html lang="en">/);
      expect(html, file).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html, file).not.toMatch(/\son[a-z]+=/i);
      expect(html, file).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    }
    for (const file of readdirSync(join(PUBLIC_DIR, "assets"))) {
      const text = readFileSync(join(PUBLIC_DIR, "assets", file), "utf8");
      if (file.endsWith(".js")) {
        scriptBytes += statSync(join(PUBLIC_DIR, "assets", file)).size;
        expect(text, file).not.toMatch(/\binnerHTML\b|\beval\(|new Function\(|document\.write/);
      }
    }
    // The budget: under 100 KB of JavaScript per page (ours are all of it, unminified).
    expect(scriptBytes).toBeLessThan(100 * 1024);
  });
});
