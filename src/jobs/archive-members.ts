/**
 * The members a restore takes from one backup's archive, in archive order, as raw tar events
 * (headers as stored, then the data blocks: sparse map, content and padding):
 *
 *   seekable archive, a small part of it wanted ─▶ each span read from its frame (archive-reader.ts)
 *   otherwise ─▶ the whole archive, its size and SHA-256 checked against the manifest at the end
 *
 * A member found where the index says must be the one it names, and every member asked for must
 * be found: an index that does not match its archive fails the restore (IntegrityError).
 */
import type { AgeIdentity } from '../archive/age/index.ts';
import { chainStreams } from '../archive/chain.ts';
import { BLOCK } from '../archive/tar-header.ts';
import { normalizeMember } from '../archive/tar-path.ts';
import { type RawMember, type TarEntry, TarReader } from '../archive/tar-reader.ts';
import { openArchiveReader } from '../catalog/archive-reader.ts';
import type { BackupRef } from '../catalog/backups.ts';
import { decodeStages, openVerified } from '../catalog/objects.ts';
import { errorMessage, IntegrityError, isAbortError } from '../errors.ts';
import { frameMap, planSpans, type Span, spanBytes, withEnds } from '../plan/seek.ts';
import type { Storage } from '../storage/storage.ts';

export type MemberEvent =
  | { type: 'entry'; path: string; entry: TarEntry; raw: RawMember }
  | { type: 'body'; data: Buffer };

export interface MemberRead {
  storage: Storage;
  ref: BackupRef;
  identities: AgeIdentity[] | undefined;
  signal: AbortSignal;
  /** Member names (normalised) to take, with their index entry's `at` and content size. */
  members: ReadonlyMap<string, { at?: readonly [number, number] | undefined; size: number }>;
  /** Reading the whole archive: stop before the first entry this returns true for. */
  stopAt?: ((e: TarEntry) => boolean) | undefined;
  /** Read the archive whole even when seeking would read less. */
  whole?: boolean | undefined;
  /** Entries of this archive's index besides `members`, which say where more frames start. */
  index?: Iterable<{ at?: readonly [number, number] | undefined }> | undefined;
}

/** Seeking pays when the spans read less than this share of the archive. */
const SEEK_SHARE = 0.5;

export async function* archiveMembers(o: MemberRead): AsyncGenerator<MemberEvent> {
  const spans = o.whole ? undefined : seekPlan(o);
  if (spans) for (const span of spans) yield* spanMembers(o, span);
  else yield* wholeMembers(o);
}

/** The spans to read, or undefined to read the archive whole. */
export function seekPlan(o: Pick<MemberRead, 'ref' | 'members' | 'index'>): Span[] | undefined {
  const { manifest } = o.ref;
  if (!manifest.seekable || o.members.size === 0) return undefined;
  const targets = [];
  for (const [member, m] of o.members) {
    if (!m.at) return undefined;
    targets.push({ member, at: m.at, size: m.size });
  }
  const { frameSize } = manifest.seekable;
  const ratio = frameSize === null ? 1 : manifest.archive.size / Math.max(1, manifest.stats.tarBytes);
  const known = [...targets, ...(o.index ?? [])];
  const tars = known.flatMap((e) => (e.at ? [e.at[1]] : []));
  const spans = planSpans(withEnds(targets, tars), frameMap(known, frameSize, ratio));
  return spanBytes(spans) < manifest.archive.size * SEEK_SHARE ? spans : undefined;
}

async function* spanMembers(o: MemberRead, span: Span): AsyncGenerator<MemberEvent> {
  const ac = new AbortController();
  const signal = AbortSignal.any([o.signal, ac.signal]);
  const want = new Set(span.members);
  const where = `backup ${o.ref.job}/${o.ref.id}, archive frame at compressed byte ${span.start}`;
  const reader = await openArchiveReader(o.storage, o.ref, o.identities, signal);
  const plain = reader.open(span.start, signal, span.hint);
  const tar = new TarReader({ raw: true });
  let skip = span.skip;
  let current: { path: string; left: number } | undefined;
  let first = true;
  try {
    for await (let chunk of plain) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length);
        skip -= n;
        chunk = chunk.subarray(n);
        if (chunk.length === 0) continue;
      }
      for (const ev of tar.write(chunk)) {
        if (ev.type === 'entry') {
          const path = normalizeMember(ev.entry.path);
          if (first && path !== span.members[0])
            throw new IntegrityError(`/${span.members[0]} is not where the index says (found /${path})`);
          first = false;
          current = want.has(path) ? { path, left: padded(ev.raw!.dataSize) } : undefined;
          if (!current) continue;
          yield { type: 'entry', path, entry: ev.entry, raw: ev.raw! };
        } else if (ev.type === 'body' && current) {
          current.left -= ev.data.length;
          yield { type: 'body', data: ev.data };
        } else continue;
        if (current?.left === 0) {
          want.delete(current.path);
          current = undefined;
          if (want.size === 0) return;
        }
      }
    }
    throw new IntegrityError(`the archive ends before /${[...want][0]}, which its index places there`);
  } catch (err) {
    if (o.signal.aborted || isAbortError(err)) throw err;
    throw new IntegrityError(`cannot read ${where}: ${errorMessage(err)}`, { cause: err });
  } finally {
    ac.abort();
    await plain.return(undefined);
  }
}

async function* wholeMembers(o: MemberRead): AsyncGenerator<MemberEvent> {
  const { ref } = o;
  const ac = new AbortController();
  const signal = AbortSignal.any([o.signal, ac.signal]);
  const read = await openVerified(o.storage, ref, ref.manifest.archive, signal);
  const plain = chainStreams(read.stream, decodeStages(ref.manifest, ref.manifest.compression, o.identities));
  const tar = new TarReader({ raw: true });
  let copying = false;
  try {
    for await (const chunk of plain as AsyncIterable<Buffer>) {
      for (const ev of tar.write(chunk)) {
        if (ev.type === 'entry') {
          if (o.stopAt?.(ev.entry)) return;
          const path = normalizeMember(ev.entry.path);
          copying = o.members.has(path);
          if (copying) yield { type: 'entry', path, entry: ev.entry, raw: ev.raw! };
        } else if (ev.type === 'body' && copying) yield { type: 'body', data: ev.data };
      }
    }
    tar.end();
    read.check();
  } finally {
    ac.abort();
    plain.destroy();
  }
}

function padded(n: number): number {
  return Math.ceil(n / BLOCK) * BLOCK;
}
