// Which Chromium the browser tests drive, so that `npm ci && npm test` needs no system browser:
//   1. CHROMIUM_PATH, when set (it must exist: an explicit choice is never replaced by another browser);
//   2. Debian's /usr/bin/chromium, when installed;
//   3. the headless Chromium shipped in the npm dev dependency @sparticuz/chromium, unpacked once into the
//      temp folder.
// The package's own executablePath() unpacks to a fixed /tmp/chromium and returns it as soon as that path
// exists, so a second test file starting meanwhile in another fork could launch a half-written binary.
// Here each process unpacks to a private file and renames it into place: the final path only ever holds a
// complete binary.
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createBrotliDecompress } from "node:zlib";

export const SYSTEM_CHROMIUM = "/usr/bin/chromium";
const NPM_CHROMIUM_PACKAGE = "@sparticuz/chromium";

export interface ChromiumExecutable {
  path: string;
  /** Where it came from, for error messages. */
  source: string;
}

let unpacked: Promise<ChromiumExecutable> | undefined;

export async function chromiumExecutable(): Promise<ChromiumExecutable> {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist: the browser tests need a Chromium there.`);
    return { path: fromEnv, source: "CHROMIUM_PATH" };
  }
  if (existsSync(SYSTEM_CHROMIUM)) return { path: SYSTEM_CHROMIUM, source: "Debian's chromium package" };
  return npmChromium();
}

/** The npm dev dependency's Chromium, unpacked on first use (once per process, kept across runs). */
export function npmChromium(): Promise<ChromiumExecutable> {
  unpacked ??= unpackNpmChromium();
  return unpacked;
}

async function unpackNpmChromium(): Promise<ChromiumExecutable> {
  let packageDir: string;
  try {
    // The package exports only its entry point (build/index.js); its folder holds bin/ and package.json.
    packageDir = join(dirname(createRequire(import.meta.url).resolve(NPM_CHROMIUM_PACKAGE)), "..");
  } catch {
    throw new Error(
      `No Chromium for the browser tests: CHROMIUM_PATH is not set, ${SYSTEM_CHROMIUM} is not installed and the ` +
        `dev dependency ${NPM_CHROMIUM_PACKAGE} is missing (run \`npm ci\` without --omit=dev).`,
    );
  }
  const { version } = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { version: string };
  const source = `${NPM_CHROMIUM_PACKAGE}@${version}`;
  const dir = join(tmpdir(), `sparticuz-chromium-${version}`);
  const path = join(dir, "chromium");
  if (existsSync(path)) return { path, source };

  mkdirSync(dir, { recursive: true });
  const partial = `${path}.${process.pid}.partial`;
  try {
    await pipeline(
      createReadStream(join(packageDir, "bin", "chromium.br")),
      createBrotliDecompress(),
      createWriteStream(partial, { mode: 0o755 }),
    );
    renameSync(partial, path);
  } catch (error) {
    rmSync(partial, { force: true });
    throw new Error(`Could not unpack the Chromium of ${source} into ${dir}: ${String(error)}`);
  }
  return { path, source };
}
