// Log lines go to stdout in batches (src/http/logger.ts: one write per 25 ms or per 64 KB, issue 8). The
// promise guarded here: batching never loses or reorders a line — whatever is pending is written when
// the process exits, a quiet process writes its lines within the batching delay, and a burst larger
// than a batch arrives whole, in order — and each line stays one JSON object.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const loggerModule = fileURLToPath(new URL("../src/http/logger.ts", import.meta.url));

/**
 * Runs `body` in a child node (with tsx) where `log` is the production stdout logger; resolves its stdout
 * and how it ended. `onLine` sees each complete line as it arrives, with the child (to end its stdin).
 */
function runChild(
  body: string,
  onLine?: (line: string, child: ChildProcess) => void,
): Promise<{ stdout: string; code: number | null }> {
  const script = `import { jsonLogger } from ${JSON.stringify(loggerModule)}; const log = jsonLogger(); ${body}`;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["pipe", "pipe", "pipe"] });
  child.stderr.resume();
  let stdout = "";
  let partial = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    stdout += chunk;
    partial += chunk;
    let newline = partial.indexOf("\n");
    while (newline !== -1) {
      onLine?.(partial.slice(0, newline), child);
      partial = partial.slice(newline + 1);
      newline = partial.indexOf("\n");
    }
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ stdout, code })));
}

const parse = (stdout: string) =>
  stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { level: string; msg: string; n?: number; requestId?: string });

describe("batched log lines", () => {
  it("are all written when the process exits right after logging them", async () => {
    const { stdout, code } = await runChild(`for (let n = 0; n < 1000; n++) log("request", { n }); process.exit(0);`);
    expect(code).toBe(0);
    const lines = parse(stdout);
    expect(lines.map((line) => line.n)).toEqual(Array.from({ length: 1000 }, (_, n) => n));
  });

  it("reach stdout within the batching delay while the process keeps running", async () => {
    // Log one line, then stay alive, idle, until the test closes stdin (exit code 0) or, failing that,
    // for 30 s (exit code 3). The test closes stdin once the line has arrived: only a line the batching
    // timer wrote can do that; one held back until the exit would come after the 30 s, with code 3.
    const { stdout, code } = await runChild(
      `setTimeout(() => { log("quiet", { n: 1 }); process.stdin.on("end", () => process.exit(0)).resume(); setTimeout(() => process.exit(3), 30_000); }, 100);`,
      (line, child) => {
        if (line.includes('"quiet"')) child.stdin!.end();
      },
    );
    expect(code).toBe(0);
    expect(parse(stdout)).toHaveLength(1);
  });

  it("keep order and completeness in a burst larger than one batch, each line one JSON object", async () => {
    const { stdout } = await runChild(
      `const pad = "x".repeat(200); for (let n = 0; n < 5000; n++) log("request", { n, pad, requestId: "r-" + n }); log("done", { level: "warn", n: 5000 });`,
    );
    const lines = parse(stdout);
    expect(lines).toHaveLength(5001);
    expect(lines.every((line, n) => line.n === n)).toBe(true);
    expect(lines[0]).toMatchObject({ level: "info", msg: "request", requestId: "r-0" });
    expect(lines[5000]).toMatchObject({ level: "warn", msg: "done" });
  });

  it("carry any text exactly: multi-byte characters, and a line longer than a whole batch", async () => {
    const { stdout } = await runChild(
      `log("request", { n: 0, path: "/sondage/é✓🙂" }); log("request", { n: 1, big: "é".repeat(40000) }); log("request", { n: 2, path: "/after" });`,
    );
    const lines = parse(stdout) as unknown as { n: number; path?: string; big?: string }[];
    expect(lines.map((line) => line.n)).toEqual([0, 1, 2]);
    expect(lines[0]!.path).toBe("/sondage/é✓🙂");
    expect(lines[1]!.big).toBe("é".repeat(40000));
    expect(lines[2]!.path).toBe("/after");
  });
});
