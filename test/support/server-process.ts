// The service as its own OS process, as `npm start` runs it (the built bundle), for tests that kill it:
// SIGTERM/SIGINT/SIGKILL, crash points, restarts on the same DATA_DIR.
import { spawn, type ChildProcess } from "node:child_process";
import { builtServerArgs } from "./built-server";

export interface ServerProcess {
  child: ChildProcess;
  /** The URL the server printed ("listening on …"). */
  url: string;
  /** The devnet RPC URL it printed, in local mode. */
  rpcUrl: string | undefined;
  exited: Promise<number | null>;
  output(): string;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

export function startServerProcess(env: Record<string, string>, timeoutMs = 30_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, builtServerArgs(), {
    env: { ...process.env, MODE: "local", PORT: "0", HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const listening = /listening on (http:\/\/\S+)/.exec(output);
      const devnet = /Local devnet \S+ at (http:\/\/\S+),/.exec(output);
      const needsDevnet = (env.MODE ?? "local") === "local";
      if (listening && (devnet || !needsDevnet)) {
        clearTimeout(timer);
        resolve({
          child,
          url: listening[1]!,
          rpcUrl: devnet?.[1],
          exited,
          output: () => output,
          stop: async () => {
            if (child.exitCode === null) child.kill("SIGTERM");
            return exited;
          },
        });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before it was listening:\n${output}`));
    });
  });
}
