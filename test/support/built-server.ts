// The service as `npm start` runs it: src/server.ts bundled like `npm run build` (scripts/lib/bundle.ts)
// and run by plain node. Built once per test run by the global setup (test/support/global-setup.ts), into
// a folder of its own that goes when the run ends; helpers spawn it with builtServerArgs().
import { inject } from "vitest";
import { START_NODE_FLAGS } from "../../scripts/lib/bundle";

declare module "vitest" {
  export interface ProvidedContext {
    /** Absolute path of the bundle the global setup built. */
    serverBundle: string;
  }
}

/** The node arguments that start the built service (`node <these>`), as package.json "start" does. */
export function builtServerArgs(): string[] {
  return [...START_NODE_FLAGS, inject("serverBundle")];
}
