// The boundaries of src/, checked in CI (`npm run boundaries`). A feature folder is used by others only
// through its index.ts; feature folders never depend on each other in a cycle; nothing in production
// code imports the local stand-ins (src/devnet), which only the Node composition root may start.
const FEATURES = "(polls|payment|voting|payouts|webhook|moderation|discovery|pages|audit|admin)";

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
      from: { path: "^src/([^/]+)/" },
      to: { path: `^src/${FEATURES}/(?!index\\.ts$)`, pathNot: "^src/$1/" },
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
