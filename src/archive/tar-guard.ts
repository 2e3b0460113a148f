/**
 * A pass-through for raw tar bytes on their way to a server's `tar -x` (restore `--to-host`).
 * The bytes go out unchanged, but only after every header they contain has been parsed and
 * judged: a header sequence still being read (a pax header waiting for its entry, a header block
 * split across chunks) is held back, and when an entry is refused the stream errors without
 * forwarding anything of it. The server's GNU tar has its own protections; this one does not
 * depend on its version or options.
 *
 * Refused (IntegrityError naming the entry): absolute names, `..` components, empty names;
 * entries whose path goes through, or replaces, a symlink that appeared earlier in the archive;
 * hardlinks whose target is unsafe or not an earlier non-directory entry of the archive;
 * anything malformed or truncated. Symlink targets themselves may point anywhere.
 *
 * The guard cannot see the server's filesystem. GNU tar replaces a symlink that sits where the
 * archive has an entry, but follows one that sits at an intermediate directory of a member (a
 * `--path` restore of /tmp/x/… has no entry for `tmp`): the restore checks those on the server
 * before tar starts, and uses `onEvent` to refuse entries its check did not cover (see
 * jobs/restore-remote.ts).
 */
import { Transform, type TransformCallback } from 'node:stream';
import { CancelledError, IntegrityError } from '../errors.ts';
import { createEntryHasher } from './tar-hash.ts';
import type { IndexEntry } from './tar-index.ts';
import { ancestors, MemberSet, normalizeMember, ROOT } from './tar-path.ts';
import { type TarEntry, type TarEvent, TarReader } from './tar-reader.ts';

export interface TarGuardOptions {
  /** Each entry as it completes, with the SHA-256 of files; throwing stops the stream. */
  onEntry?: ((e: IndexEntry) => void) | undefined;
  /**
   * Every reader event, before any of its bytes are forwarded: throwing on an `entry` event
   * refuses that entry with nothing of it sent on.
   */
  onEvent?: ((ev: TarEvent) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export function createTarGuard(opts: TarGuardOptions = {}): Transform {
  const reader = new TarReader();
  const check = createEntryCheck();
  const push = createEntryHasher((e) => opts.onEntry?.(e));
  const held: Buffer[] = [];
  let heldStart = 0;

  const guard = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      try {
        for (const ev of reader.write(chunk)) {
          if (ev.type === 'entry') check(ev.entry);
          opts.onEvent?.(ev);
          push(ev);
        }
      } catch (err) {
        // Nothing of this chunk, nor of any held-back header, has been forwarded.
        cb(err as Error);
        return;
      }
      held.push(chunk);
      forward(reader.committed);
      cb();
    },
    flush(cb: TransformCallback) {
      try {
        reader.end();
      } catch (err) {
        cb(err as Error);
        return;
      }
      forward(reader.position);
      cb();
    },
  });

  function forward(limit: number): void {
    while (held.length > 0 && heldStart < limit) {
      const b = held[0]!;
      const n = Math.min(b.length, limit - heldStart);
      if (n === b.length) {
        held.shift();
        guard.push(b);
      } else {
        held[0] = b.subarray(n);
        guard.push(b.subarray(0, n));
      }
      heldStart += n;
    }
  }

  const signal = opts.signal;
  if (signal) {
    const onAbort = () => guard.destroy(new CancelledError());
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    guard.once('close', () => signal.removeEventListener('abort', onAbort));
  }
  return guard;
}

/** The guard's rules, with the little state they need (symlinks seen, non-directory members seen). */
export function createEntryCheck(): (e: TarEntry) => void {
  const symlinks = new Set<string>();
  const seen = new MemberSet();
  return (e) => {
    const path = normalizeMember(e.path);
    if (path === ROOT && e.type !== 'dir')
      throw new IntegrityError(`refusing ${e.type} entry for the archive root`);
    throughSymlink(path, path);
    if (symlinks.has(path)) {
      throw new IntegrityError(
        `refusing archive entry ${path}: it replaces a symlink created earlier in the archive`,
      );
    }
    if (e.type === 'hardlink') {
      const target = normalizeMember(e.linkpath!, 'hardlink target');
      throughSymlink(target, path);
      if (!seen.has(target)) {
        throw new IntegrityError(
          `refusing hardlink ${path} -> ${target}: the target is not an earlier file of this archive`,
        );
      }
    }
    if (e.type === 'symlink') symlinks.add(path);
    if (e.type !== 'dir') seen.add(path);
  };

  function throughSymlink(member: string, entry: string): void {
    for (const a of ancestors(member)) {
      if (symlinks.has(a)) {
        throw new IntegrityError(
          `refusing archive entry ${entry}: ${member} goes through the symlink ${a} in the archive`,
        );
      }
    }
  }
}
