// Workers: the vendored browser builds the voter pages load from /vendor/<name>/<version>/<file>
// (src/pages VENDORED). On Node they are served straight from node_modules (src/pages/static-node.ts); a
// Worker has no file system, so each file is bundled with it as a module (wrangler.toml `[[rules]]`: Text
// or Data) together with its package.json for the version, and served from memory by
// src/pages/static-workers.ts. Types of these imports: src/worker-modules.d.ts.
//
// A file added to VENDORED must be imported here too; until it is, the Worker logs it as missing and
// answers 404 for it (test/workers-scenario.test.ts fetches every vendored file from the Worker).
import idkitPackageJson from "@worldcoin/idkit-core/package.json";
import idkitGlobalJs from "@worldcoin/idkit-core/dist/idkit.global.js";
import idkitWasm from "@worldcoin/idkit-core/dist/idkit_wasm_bg.wasm";
import uqrPackageJson from "uqr/package.json";
import uqrIndexMjs from "uqr/dist/index.mjs";
import { VENDOR_PREFIX, VENDORED } from "./pages/index";
import type { VendoredFile } from "./pages/static-workers";

interface BundledPackage {
  packageJson: string;
  files: Record<string, VendoredFile>;
}

const JS = "text/javascript; charset=utf-8";

/** npm package → what this bundle carries of it. */
const BUNDLED: Record<string, BundledPackage> = {
  "@worldcoin/idkit-core": {
    packageJson: idkitPackageJson,
    files: {
      "idkit.global.js": { body: idkitGlobalJs, contentType: JS },
      "idkit_wasm_bg.wasm": { body: new Uint8Array(idkitWasm), contentType: "application/wasm" },
    },
  },
  uqr: {
    packageJson: uqrPackageJson,
    files: { "index.mjs": { body: uqrIndexMjs, contentType: JS } },
  },
};

/** Request path → file for every VENDORED file this bundle carries; `missing` lists the others. */
export function workerVendoredFiles(): { files: ReadonlyMap<string, VendoredFile>; missing: string[] } {
  const files = new Map<string, VendoredFile>();
  const missing: string[] = [];
  for (const vendored of VENDORED) {
    const bundled = BUNDLED[vendored.packageName];
    const version = bundled ? (JSON.parse(bundled.packageJson) as { version: string }).version : "?";
    for (const name of vendored.files) {
      const file = bundled?.files[name];
      if (file) files.set(`${VENDOR_PREFIX}/${vendored.name}/${version}/${name}`, file);
      else missing.push(`${vendored.packageName}/${vendored.dir}/${name}`);
    }
  }
  return { files, missing };
}
