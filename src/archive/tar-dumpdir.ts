/**
 * GNU tar's dumpdir: what a `--listed-incremental` archive records for each directory, as the pax
 * record `GNU.dumpdir`. It is a list of NUL-terminated records ending with an empty one; each
 * record is a flag character followed by a name:
 * - `Y` name: a file archived in this archive; `N` name: an unchanged file, held by an earlier
 *   archive of the chain; `D` name: a subdirectory (archived with its own dumpdir);
 * - `R` old, `T` new: a directory renamed since the previous archive (full member names, as tar
 *   saw them); an empty name means the temporary directory made by `X` name (rename cycles).
 * On extraction with `--listed-incremental`, tar applies the renames, then deletes whatever the
 * directory holds that its dumpdir does not list (chain/tree.ts replays exactly that).
 */
import { IntegrityError } from '../errors.ts';

export type DumpdirFlag = 'Y' | 'N' | 'D' | 'R' | 'T' | 'X';

const FLAGS = new Set(['Y', 'N', 'D', 'R', 'T', 'X']);

/** The records of a `GNU.dumpdir` value, each `flag + name`; IntegrityError when malformed. */
export function parseDumpdir(value: Buffer, at: number): string[] {
  const out: string[] = [];
  let pos = 0;
  while (pos < value.length) {
    const end = value.indexOf(0, pos);
    if (end === -1) throw new IntegrityError(`malformed GNU.dumpdir at byte ${at}: unterminated record`);
    if (end === pos) break; // the empty record ends the list
    const rec = value.toString('utf8', pos, end);
    if (!FLAGS.has(rec[0]!))
      throw new IntegrityError(`malformed GNU.dumpdir at byte ${at}: flag ${JSON.stringify(rec[0])}`);
    out.push(rec);
    pos = end + 1;
  }
  return out;
}

/** The names a dumpdir lists as present (Y, N, D), with their flags. */
export function dumpdirNames(records: readonly string[]): Map<string, 'Y' | 'N' | 'D'> {
  const names = new Map<string, 'Y' | 'N' | 'D'>();
  for (const r of records) {
    const f = r[0];
    if (f === 'Y' || f === 'N' || f === 'D') names.set(r.slice(1), f);
  }
  return names;
}
