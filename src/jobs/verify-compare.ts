import type { IndexEntry } from '../archive/tar-index.ts';

const FIELDS = ['type', 'size', 'sha256', 'linkpath', 'mode', 'uid', 'gid', 'mtime'] as const;
const MAX_PROBLEMS = 20;

/**
 * Compares the entries parsed from an archive, as they stream by, with the backup's index:
 * every index entry must appear in the archive with equal type, size, per-file SHA-256, link
 * target, mode, owner and mtime, and the archive must hold nothing the index does not list.
 */
export function createIndexComparer(index: readonly IndexEntry[]): {
  onEntry(e: IndexEntry): void;
  /** Problems found, one line each (capped, with a count of the rest). */
  finish(): string[];
  readonly matched: number;
} {
  const expected = new Map<string, IndexEntry[]>();
  for (const e of index) {
    const list = expected.get(e.path);
    if (list) list.push(e);
    else expected.set(e.path, [e]);
  }
  const problems: string[] = [];
  let extra = 0;
  let matched = 0;
  const report = (p: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
    else extra++;
  };
  return {
    get matched() {
      return matched;
    },
    onEntry(e) {
      const want = expected.get(e.path)?.shift();
      if (!want) {
        report(`/${e.path}: in the archive but not in the index`);
        return;
      }
      matched++;
      const diff = FIELDS.find((f) => want[f] !== e[f]);
      if (diff)
        report(`/${e.path}: ${diff} differs (index ${String(want[diff])}, archive ${String(e[diff])})`);
    },
    finish() {
      const missing: string[] = [];
      for (const list of expected.values()) for (const e of list) missing.push(e.path);
      if (missing.length > 0) {
        report(
          `${missing.length} index entr${missing.length === 1 ? 'y is' : 'ies are'} missing from the archive, e.g. /${missing.slice(0, 3).join(', /')}`,
        );
      }
      return extra > 0 ? [...problems, `… and ${extra} more problem(s)`] : problems;
    },
  };
}
