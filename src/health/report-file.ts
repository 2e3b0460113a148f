import { randomBytes } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  fsyncSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BoError, UsageError } from '../errors.ts';

/**
 * Writes a rendered report to `path` atomically: a temporary file beside it (same directory, so
 * same filesystem), flushed, then renamed over the target. A web server or a phone reading the
 * file sees the old report or the new one, never half of one. Failures are BoErrors naming the
 * file; the temporary file is removed.
 */
export function writeReportFile(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o644);
    writeSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new BoError(`cannot write the report to ${path}: ${reason(err)}`, {
      hint: 'check that the directory exists and is writable',
      cause: err,
    });
  }
}

/**
 * Fails fast, before a health run, when the report could not be written to `path` anyway: a
 * missing or unwritable directory, or a directory in the way, is a bad --out (usage, exit 2).
 */
export function assertReportWritable(path: string): void {
  const dir = dirname(path);
  try {
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    accessSync(dir, constants.W_OK);
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory())
      throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  } catch (err) {
    throw new UsageError(`cannot write the report to ${path}: ${reason(err)}`, {
      hint: 'check that the directory exists and is writable',
      cause: err,
    });
  }
}

function reason(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return 'no such directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EROFS':
      return 'read-only filesystem';
    default:
      return (err as Error).message;
  }
}
