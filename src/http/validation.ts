// Turns zod issues into the error envelope: the first issue names the offending `param` in the
// dotted/bracketed form clients see in their own JSON (e.g. "options[1].text").
import type { ZodError } from "zod";
import { ApiError } from "./errors";

export function paramPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

export function validationError(error: ZodError, root?: string): ApiError {
  const issue = error.issues[0];
  if (!issue) return new ApiError(400, "validation_error", "The request is invalid.");
  let path = [...(root ? [root] : []), ...issue.path];
  let message = issue.message;
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    path = [...path, key];
    message = `Unknown field "${key}".`;
  }
  const param = paramPath(path) || undefined;
  const text = param ? `${param}: ${message}` : message;
  return new ApiError(400, "validation_error", text.endsWith(".") ? text : `${text}.`, param);
}
