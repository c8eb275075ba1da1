// The Workers entry's configuration, runtime-free (unit-tested on Node).
import { ConfigError, loadConfig, type Config } from "./config";

/** The string values among a Worker's bindings: what loadConfig reads (D1, ASSETS… are not configuration). */
export function configVariables(env: Record<string, unknown>): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (typeof value === "string") vars[name] = value;
  return vars;
}

/**
 * The Config of a Worker, through the same loadConfig as Node: production mode when MODE is unset, and an
 * explicit other MODE is refused (local mode needs a chain and stand-ins: Node only).
 */
export function workerConfig(env: Record<string, unknown>): Config {
  const vars = configVariables(env);
  const mode = vars.MODE?.trim();
  if (mode && mode !== "production") {
    throw new ConfigError(`MODE=${mode}: the Workers entry runs in production mode only (local mode needs Node: npm start).`);
  }
  return loadConfig({ ...vars, MODE: "production" });
}
