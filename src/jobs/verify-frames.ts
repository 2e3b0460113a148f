/**
 * Where a damaged seekable archive is damaged, for `bo verify`: its frames are independent, so
 * each one is decoded on its own, and the ones that fail are named, with the files they hold.
 *
 *   stored bytes ─ [age: each 64 KiB chunk opened on its own; one that fails is a hole]
 *     ─ frame scanner ─ one zstd decompressor per frame ─▶ damaged frames ─▶ their files (index)
 *
 * Damage that breaks the stream's structure (a hole, a mangled block header) spoils the frames
 * from the one it hits to the next frame the index knows the start of (`at`), where the scan
 * resumes. Runs only after a verify found the archive damaged: it reads the archive once more.
 */
import { createZstdDecompress } from 'node:zlib';
import type { AgeIdentity } from '../archive/age/index.ts';
import { TAG_SIZE } from '../archive/age/primitives.ts';
import { type AgePayload, agePayload, createChunkOpener } from '../archive/age/seek.ts';
import { SealedChunks } from '../archive/age/stream.ts';
import type { IndexEntry } from '../archive/tar-index.ts';
import { ZstdFrameScanner } from '../archive/zstd-frames.ts';
import type { BackupRef } from '../catalog/backups.ts';
import { readStoredRange } from '../catalog/objects.ts';
import { errorMessage } from '../errors.ts';
import type { Storage } from '../storage/storage.ts';

/** Frames `from` to `to` - 1, compressed bytes `start` to `end` - 1 (end undefined: to the end). */
interface Damage {
  from: number;
  to: number;
  start: number;
  end: number | undefined;
  problem: string;
}

const SHOWN = 5;

/** One line per damaged run of frames: where, why, and which files it holds; [] when none is found. */
export async function damagedFrames(
  storage: Storage,
  ref: BackupRef,
  identities: AgeIdentity[] | undefined,
  index: readonly IndexEntry[],
  signal: AbortSignal,
): Promise<string[]> {
  const { manifest } = ref;
  const frameSize = manifest.seekable?.frameSize;
  if (!frameSize || manifest.compression !== 'zstd') return [];
  const total = manifest.seekable!.frames;
  const known = new Map<number, number>(); // frame start → frame number, from the index
  for (const e of index) if (e.at) known.set(e.at[0], Math.floor(e.at[1] / frameSize));
  const damage = await walk(storage, ref, identities, known, total, signal);
  return damage.map((d) => {
    const from = d.from * frameSize;
    const to = d.to * frameSize;
    const held = index.filter((e, i) => {
      if (!e.at) return false;
      const end = index[i + 1]?.at?.[1] ?? e.at[1] + e.size + 1024;
      return e.at[1] < to && end > from;
    });
    const names = held.slice(0, SHOWN).map((e) => `/${e.path}`);
    const more = held.length > SHOWN ? ` and ${held.length - SHOWN} more` : '';
    const bytes = `compressed bytes ${d.start}–${d.end === undefined ? 'end' : d.end - 1}`;
    const after =
      d.to - d.from > 1
        ? `; frames ${d.from + 2}–${d.to} after it could not be checked (the damage hides where they start)`
        : '';
    return `frame ${d.from + 1} of ${total} (${bytes}, tar bytes ${from}–${to - 1}) damaged: ${d.problem}${after}; files there: ${names.join(', ') || 'none starts there'}${more}`;
  });
}

async function walk(
  storage: Storage,
  ref: BackupRef,
  identities: AgeIdentity[] | undefined,
  known: ReadonlyMap<number, number>,
  total: number,
  signal: AbortSignal,
): Promise<Damage[]> {
  const damage: Damage[] = [];
  const starts = [...known.keys()].sort((a, b) => a - b);
  let frame: { k: number; start: number; parts: Buffer[] } | undefined;
  let nextK = 0;
  let pos = 0;
  let resumeAt = -1; // after a break: bytes before this offset are skipped
  let cuts: Array<{ at: number; start?: boolean }> = [];
  const scannerAt = (start: number) =>
    new ZstdFrameScanner(
      (at, kind) => {
        if (kind === 'data') cuts.push({ at, start: true });
      },
      (at) => cuts.push({ at }),
      start,
    );
  let scanner = scannerAt(0);
  /** The structure is lost from `at` on: the frames up to the next known start are damaged. */
  const lose = (at: number, problem: string) => {
    const resume = starts.find((c) => c >= at && c > (frame?.start ?? -1));
    const from = frame?.k ?? nextK;
    const to = resume === undefined ? total : known.get(resume)!;
    damage.push({ from, to: Math.max(to, from + 1), start: frame?.start ?? at, end: resume, problem });
    frame = undefined;
    resumeAt = resume ?? Number.POSITIVE_INFINITY;
    nextK = to;
  };
  for await (const piece of compressedWithHoles(storage, ref, identities, signal)) {
    let data = piece.data;
    const base = pos;
    pos += data.length;
    if (resumeAt > base) {
      if (pos <= resumeAt) continue;
      data = data.subarray(resumeAt - base);
      scanner = scannerAt(resumeAt);
    }
    const at0 = pos - data.length;
    if (piece.hole) {
      lose(at0, piece.hole);
      continue;
    }
    cuts = [];
    let broken: string | undefined;
    try {
      scanner.write(data);
    } catch (err) {
      broken = `the stream's structure is broken (${errorMessage(err)})`;
    }
    let from = 0;
    for (const cut of cuts) {
      const at = cut.at - at0;
      if (frame && at > from) frame.parts.push(data.subarray(from, at));
      from = Math.max(from, at);
      if (cut.start) frame = { k: known.get(cut.at) ?? nextK, start: cut.at, parts: [] };
      else if (frame) {
        const problem = await decodeProblem(frame.parts);
        if (problem)
          damage.push({ from: frame.k, to: frame.k + 1, start: frame.start, end: cut.at, problem });
        nextK = frame.k + 1;
        frame = undefined;
      }
    }
    if (frame) frame.parts.push(data.subarray(from));
    if (broken) lose(pos, broken);
  }
  return damage;
}

/**
 * The compressed stream, whole; for an encrypted archive each age chunk is opened on its own,
 * and one that fails authentication comes as a `hole` of its length.
 */
async function* compressedWithHoles(
  storage: Storage,
  ref: BackupRef,
  identities: AgeIdentity[] | undefined,
  signal: AbortSignal,
): AsyncGenerator<{ data: Buffer; hole?: string }> {
  const obj = ref.manifest.archive;
  const stored = readStoredRange(storage, ref, obj, 0, obj.size, signal);
  if (!ref.manifest.encryption) {
    for await (const data of stored) yield { data };
    return;
  }
  let head = Buffer.alloc(0);
  let p: AgePayload | undefined;
  const chunks = new SealedChunks();
  const out: Array<{ data: Buffer; hole?: string }> = [];
  let i = 0;
  const open = (sealed: Buffer, last: boolean) => {
    try {
      const opener = createChunkOpener(p!, i);
      for (const data of [...opener.update(sealed), ...(last ? opener.final() : [])]) out.push({ data });
    } catch (err) {
      out.push({ data: Buffer.alloc(Math.max(0, sealed.length - TAG_SIZE)), hole: errorMessage(err) });
    }
    i++;
  };
  for await (const data of stored) {
    let rest = data;
    if (!p) {
      head = Buffer.concat([head, data]);
      p = agePayload(head, obj.size, identities ?? []);
      if (!p) continue;
      rest = head.subarray(p.start);
    }
    chunks.push(rest, (sealed) => open(Buffer.from(sealed), false));
    yield* out.splice(0);
  }
  if (p && chunks.fill > 0) open(chunks.rest, true);
  yield* out.splice(0);
}

/** Why a frame does not decode on its own; undefined when it does. */
async function decodeProblem(parts: Buffer[]): Promise<string | undefined> {
  const d = createZstdDecompress();
  d.resume();
  try {
    await new Promise<void>((resolve, reject) => {
      d.once('end', resolve);
      d.once('error', reject);
      for (const p of parts) d.write(p);
      d.end();
    });
    return undefined;
  } catch (err) {
    return errorMessage(err);
  }
}
