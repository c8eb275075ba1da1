// Files only the owner may read: directories 0700, files 0600, written whole (temporary file, fsync,
// rename) so a crash leaves the old or the new content, never half of one.
import { randomUUID } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `dir` (and missing parents) owner-only. An existing directory that others may enter is refused,
 * not narrowed: changing the mode of a directory someone pointed us at (a home, /tmp) is not ours to do.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const mode = statSync(dir).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new Error(`${dir} is accessible to other users (mode ${mode.toString(8)}): run chmod 700 on it, or choose another directory`);
  }
}

/** Replaces `path` with `content`, mode 0600, durably. */
export function writePrivateFile(path: string, content: string): void {
  const temporary = join(dirname(path), `.${randomUUID()}.tmp`);
  // The mode is set at creation: the content never exists with looser permissions, even for an instant.
  const fd = openSync(temporary, "wx", PRIVATE_FILE_MODE);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(temporary);
    throw error;
  }
  closeSync(fd);
  renameSync(temporary, path);
  syncDir(dirname(path));
}

/** Makes a rename durable (POSIX); a no-op where directories cannot be opened for sync. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Some platforms refuse fsync on a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
