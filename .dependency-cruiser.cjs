// The boundaries of src/, checked in CI (`npm run boundaries`). A feature folder is used by others only
// through its index.ts; feature folders never depend on each other in a cycle; nothing in production
// code imports the local stand-ins (src/devnet), which only the Node composition root may start.
const FEATURES = "(polls|payment|voting|payouts|webhook|moderation|discovery|pages|audit|admin)";
// The modules that declare the wire's shapes and import no server code: all src/client may use of src/.
const CLIENT_LEAVES = [
  "^src/http/openapi-shapes\\.ts$",
  "^src/payment/(quote-schema|pricing)\\.ts$",
  "^src/polls/(schema|wire|expiry|demographics|progress-stream|read-token-message)\\.ts$",
];

// Folders in layers, lowest first: a folder imports only folders of lower layers, so no two folders can
// ever depend on each other (no cycles between features). Folders of one layer are independent.
const LAYERS = [
  ["lib"],
  ["http", "db"],
  ["payment", "moderation"],
  ["polls"],
  ["webhook", "payouts"],
  ["voting", "admin"],
  ["discovery", "pages", "audit"],
  ["devnet", "node"],
];
const layerRules = LAYERS.flatMap((layer, index) =>
  layer.map((folder) => {
    const notBelow = LAYERS.slice(index).flat().filter((other) => other !== folder);
    return {
      name: `layers-${folder}`,
      comment: `src/${folder} may import only folders of lower layers (see LAYERS).`,
      severity: "error",
      from: { path: `^src/${folder}/` },
      to: { path: `^src/(${notBelow.join("|")})/` },
    };
  }),
);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "feature-used-through-its-index",
      comment: "Import another feature through its index.ts, not its internals.",
      severity: "error",
      from: { path: "^src/([^/]+)/", pathNot: "^src/client/" },
      // The wire's leaves (pure schemas and constants) are shared as they are, like the index.
      to: { path: `^src/${FEATURES}/(?!index\\.ts$)`, pathNot: ["^src/$1/", ...CLIENT_LEAVES] },
    },
    {
      name: "client-imports-only-wire-leaves",
      comment: "src/client runs in browsers: it imports the schema leaves and src/lib, never a feature's index or server code.",
      severity: "error",
      from: { path: "^src/client/" },
      to: { path: "^src/", pathNot: [`^src/(client|lib)/`, ...CLIENT_LEAVES] },
    },
    {
      name: "only-the-mcp-server-uses-the-client",
      comment: "The typed client is for agents (and src/mcp); the service never calls itself through it.",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/(client|mcp)/" },
      to: { path: "^src/client/" },
    },
    {
      name: "entry-points-use-features-through-their-index",
      comment: "Platform adapters (*-node.ts, *-worker(s).ts) are imported by their own entry point only.",
      severity: "error",
      from: { path: "^src/[^/]+\\.ts$" },
      to: { path: `^src/${FEATURES}/(?!index\\.ts$)`, pathNot: "-(node|workers?)\\.ts$" },
    },
    {
      name: "no-production-import-of-the-devnet",
      comment: "Local stand-ins (devnet, World ID simulator) are started by the Node composition root only.",
      severity: "error",
      from: { path: "^src/", pathNot: ["^src/devnet/", "^src/server\\.ts$"] },
      to: { path: "^src/devnet/" },
    },
    ...layerRules,
    {
      name: "no-feature-cycles",
      comment: "Feature folders depend on each other in one direction only.",
      severity: "error",
      from: { path: `^src/${FEATURES}/` },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    exclude: { path: "\\.d\\.ts$" },
  },
};
