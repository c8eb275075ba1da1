import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Builds the bundle `npm start` runs, once, for the tests that start the service as a process.
    globalSetup: ["test/support/global-setup.ts"],
    // Each file starts its own chain and server on loopback ports; forks isolate native modules.
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
