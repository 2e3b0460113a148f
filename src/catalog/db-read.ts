import { statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import { BoError, errorMessage } from '../errors.ts';
import type { StateDb } from './db.ts';

/**
 * Opens `<stateDir>/state.db` for reading only, as a user who may not write there (a member of
 * group bo reading the daemon's 0640 files): undefined when there is no database yet.
 *
 * A WAL database needs its -shm index. With a non-empty -wal (the daemon runs, or died) the
 * existing -shm is used read-only. Without one, everything is in the main file, and it is
 * opened `immutable`: a plain read-only open would have to create -wal and -shm, which fails
 * in a directory the reader cannot write ("attempt to write a readonly database") and, run as
 * root, leaves root-owned files the daemon then cannot open. Errors are BoErrors saying which
 * file and why.
 */
export function openStateDbReadOnly(stateDir: string): StateDb | undefined {
  const file = join(stateDir, 'state.db');
  if (!readable(file)) return undefined;
  const hasWal = (sizeOf(`${file}-wal`) ?? 1) > 0;
  let db: DatabaseSync | undefined;
  try {
    if (hasWal) db = new DatabaseSync(file, { readOnly: true });
    else {
      const url = pathToFileURL(file);
      url.search = 'immutable=1';
      db = new DatabaseSync(url, { readOnly: true });
    }
    db.prepare('SELECT count(*) FROM sqlite_master').get(); // opening is lazy: fail here, not later
    return db;
  } catch (err) {
    db?.close();
    const hint = `reading it needs read access to ${file}${hasWal ? ', its -wal and its -shm' : ''}`;
    throw new BoError(`cannot read the run history in ${file}: ${errorMessage(err)}`, { hint, cause: err });
  }
}

/** False when the file does not exist; throws a BoError when it cannot be looked at. */
function readable(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    throw new BoError(
      `cannot read the run history in ${file}: ${code === 'EACCES' ? 'permission denied' : errorMessage(err)}`,
      { hint: 'run as root or as a member of the daemon’s group (e.g. `usermod -aG bo $USER`)', cause: err },
    );
  }
}

/** The size of a file, or undefined when it is missing or cannot be looked at. */
function sizeOf(file: string): number | undefined {
  try {
    return statSync(file).size;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 0 : undefined;
  }
}
