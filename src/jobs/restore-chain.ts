/**
 * One plain tar stream for restoring a backup of an incremental chain, assembled from the chain's
 * archives so the ordinary extractors (local, or the server's tar behind the guard) restore it:
 *
 *   last archive (its directory entries, which tar -g writes first and which hold every
 *   directory of the tree as it was then) ─▶ directories
 *   archive 1 … archive n (only those holding a selected file) ─▶ each selected member, renamed
 *   to its name at the restored point in time, data blocks passed through ─▶ end of archive
 *
 * Only archives that hold something selected are read. Each archive read to its end is checked
 * against its manifest's size and SHA-256 before the stream ends, so a restore never reports
 * success on an object that differs from what was committed.
 */
import { Readable } from 'node:stream';
import type { AgeIdentity } from '../archive/age/index.ts';
import { chainStreams } from '../archive/chain.ts';
import { normalizeMember } from '../archive/tar-path.ts';
import { TarReader } from '../archive/tar-reader.ts';
import { END_OF_ARCHIVE, renamedHeader } from '../archive/tar-rewrite.ts';
import type { BackupRef } from '../catalog/backups.ts';
import type { ChainEntry } from '../catalog/chain-tree.ts';
import { decodeStages, openVerified } from '../catalog/objects.ts';

export interface ChainStreamOptions {
  storage: Parameters<typeof openVerified>[0];
  chain: readonly BackupRef[];
  /** The selected entries of the restored tree, by path. */
  wanted: ReadonlyMap<string, ChainEntry>;
  identities: AgeIdentity[] | undefined;
  signal: AbortSignal;
}

export function chainTarStream(o: ChainStreamOptions): Readable {
  return Readable.from(assemble(o), { objectMode: false });
}

async function* assemble(o: ChainStreamOptions): AsyncGenerator<Buffer> {
  const last = o.chain[o.chain.length - 1]!;
  yield* directories(o, last);
  const routes = new Map<string, Map<string, ChainEntry[]>>();
  for (const e of o.wanted.values()) {
    if (e.type === 'dir') continue;
    const byMember = routes.get(e.from) ?? new Map<string, ChainEntry[]>();
    byMember.set(e.member, [...(byMember.get(e.member) ?? []), e]);
    routes.set(e.from, byMember);
  }
  for (const b of o.chain) {
    const r = routes.get(b.id);
    if (r) yield* members(o, b, r);
  }
  yield END_OF_ARCHIVE;
}

/** The selected directories, from the start of the newest archive (read no further). */
async function* directories(o: ChainStreamOptions, b: BackupRef): AsyncGenerator<Buffer> {
  const ac = new AbortController();
  const signal = AbortSignal.any([o.signal, ac.signal]);
  const read = await openVerified(o.storage, b, b.manifest.archive, signal);
  const plain = chainStreams(read.stream, decodeStages(b.manifest, b.manifest.compression, o.identities));
  const reader = new TarReader({ raw: true });
  try {
    for await (const chunk of plain as AsyncIterable<Buffer>) {
      for (const ev of reader.write(chunk)) {
        if (ev.type !== 'entry') continue;
        if (ev.entry.type !== 'dir') return;
        const path = normalizeMember(ev.entry.path);
        if (o.wanted.get(path)?.type === 'dir') yield renamedHeader(ev.raw!, { path });
      }
    }
  } finally {
    ac.abort();
    plain.destroy();
  }
}

/** The members of one archive that the restored tree takes from it, under their restored names. */
async function* members(
  o: ChainStreamOptions,
  b: BackupRef,
  routes: ReadonlyMap<string, ChainEntry[]>,
): AsyncGenerator<Buffer> {
  const read = await openVerified(o.storage, b, b.manifest.archive, o.signal);
  const plain = chainStreams(read.stream, decodeStages(b.manifest, b.manifest.compression, o.identities));
  const reader = new TarReader({ raw: true });
  let copying = false;
  let extra: ChainEntry[] = [];
  let pending: Parameters<typeof renamedHeader>[0] | undefined;
  /** A member wanted under more than one name: the others become hardlinks to the first. */
  const links = function* (): Generator<Buffer> {
    for (const [i, e] of extra.entries())
      if (i > 0) yield renamedHeader(pending!, { path: e.path, hardlinkTo: extra[0]!.path });
    extra = [];
  };
  try {
    for await (const chunk of plain as AsyncIterable<Buffer>) {
      for (const ev of reader.write(chunk)) {
        if (ev.type === 'body') {
          if (copying) yield ev.data;
          continue;
        }
        if (ev.type !== 'entry') continue;
        yield* links();
        copying = false;
        if (ev.entry.type === 'dir') continue;
        const targets = routes.get(normalizeMember(ev.entry.path));
        if (!targets) continue;
        const first = targets[0]!;
        pending = ev.raw!;
        yield renamedHeader(ev.raw!, {
          path: first.path,
          linkpath: first.type === 'hardlink' || first.type === 'symlink' ? first.linkpath : undefined,
        });
        copying = true;
        extra = targets;
      }
    }
    reader.end();
    yield* links();
    read.check();
  } finally {
    plain.destroy();
  }
}
