// Compiles the devnet contracts with solc-js and writes committed JSON artifacts.
//
//   tsx src/devnet/compile.ts          write src/devnet/artifacts/*.json
//   tsx src/devnet/compile.ts --check  recompile in memory; exit 1 if the committed files differ
//
// Runtime code imports the artifacts and never runs solc. Settings are fixed so output is
// byte-identical across runs and machines (solc-js is a deterministic wasm build).
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import solc from "solc";

const CONTRACTS_DIR = fileURLToPath(new URL("./contracts/", import.meta.url));
const ARTIFACTS_DIR = fileURLToPath(new URL("./artifacts/", import.meta.url));

// One entry per artifact: source file (also the solc source unit name) and contract inside it.
const TARGETS = [
  { source: "TestUSDC.sol", contractName: "TestUSDC", artifact: "TestUSDC.json" },
  { source: "Multicall.sol", contractName: "Multicall", artifact: "Multicall.json" },
] as const;

// "cancun": supported by anvil's default (latest) hardfork and by Base / World Chain; pinned so a
// solc upgrade can't silently change opcodes (e.g. to ones a forked chain lacks).
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "cancun",
  // No metadata hash in the bytecode: comment-only edits don't change code. `sourceHash` in the
  // artifact still pins the exact source text.
  metadata: { bytecodeHash: "none" },
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
} as const;

export interface ContractArtifact {
  contractName: string;
  abi: unknown[];
  bytecode: `0x${string}`;
  deployedBytecode: `0x${string}`;
  solcVersion: string;
  sourceHash: `0x${string}`;
}

interface SolcOutput {
  errors?: { severity: "error" | "warning" | "info"; formattedMessage: string }[];
  contracts?: Record<
    string,
    Record<string, { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>
  >;
}

function sha256Hex(text: string): `0x${string}` {
  return `0x${createHash("sha256").update(text, "utf8").digest("hex")}`;
}

/** Compiles every target and returns artifact file name → exact file contents. */
export function compileArtifacts(): Map<string, string> {
  const sources: Record<string, { content: string }> = {};
  for (const t of TARGETS) sources[t.source] = { content: readFileSync(join(CONTRACTS_DIR, t.source), "utf8") };

  const input = { language: "Solidity", sources, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput;

  const problems = output.errors ?? [];
  for (const p of problems.filter((p) => p.severity === "warning")) process.stderr.write(p.formattedMessage + "\n");
  const errors = problems.filter((p) => p.severity === "error");
  if (errors.length > 0) {
    throw new Error(`solc failed:\n${errors.map((e) => e.formattedMessage).join("\n")}`);
  }

  const files = new Map<string, string>();
  for (const t of TARGETS) {
    const compiled = output.contracts?.[t.source]?.[t.contractName];
    if (!compiled) throw new Error(`solc produced no output for ${t.source}:${t.contractName}`);
    const artifact: ContractArtifact = {
      contractName: t.contractName,
      abi: compiled.abi,
      bytecode: `0x${compiled.evm.bytecode.object}`,
      deployedBytecode: `0x${compiled.evm.deployedBytecode.object}`,
      solcVersion: solc.version() as string,
      sourceHash: sha256Hex(sources[t.source]!.content),
    };
    files.set(t.artifact, JSON.stringify(artifact, null, 2) + "\n");
  }
  return files;
}

function main(argv: string[]): number {
  const check = argv.includes("--check");
  const files = compileArtifacts();
  if (!check) {
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    for (const [name, text] of files) writeFileSync(join(ARTIFACTS_DIR, name), text);
    console.log(`wrote ${[...files.keys()].map((n) => `src/devnet/artifacts/${n}`).join(", ")}`);
    return 0;
  }
  const stale: string[] = [];
  for (const [name, text] of files) {
    const path = join(ARTIFACTS_DIR, name);
    if (!existsSync(path)) stale.push(`${name} (missing)`);
    else if (readFileSync(path, "utf8") !== text) stale.push(`${name} (differs from a fresh compile)`);
  }
  if (stale.length > 0) {
    console.error(
      `Committed devnet artifacts are stale: ${stale.join(", ")}.\n` +
        `Run \`npm run compile-token\` and commit src/devnet/artifacts/.`,
    );
    return 1;
  }
  console.log(`devnet artifacts are up to date (${[...files.keys()].join(", ")})`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = main(process.argv.slice(2));
}
