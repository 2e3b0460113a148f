/**
 * Which parts of a seekable archive a restore reads (pure). Each member to read has its index
 * entry's `at` (the compressed offset of its frame, its offset in the tar stream):
 * members are grouped into spans, each read in one pass from its first member's frame. A member
 * whose frame starts close after where the previous one ends is read by decompressing through,
 * which costs less than another request; a distant one starts a new span.
 */

export interface SeekTarget {
  member: string;
  at: readonly [number, number];
  /** Content bytes (for how far the read goes, when `end` is not known). */
  size: number;
  /** Tar offset where the member ends: the next entry's start, when the index has one. */
  end?: number | undefined;
}

export interface Span {
  /** Compressed offset to start reading at (a frame's start). */
  start: number;
  /** Decompressed bytes to skip from there to the first member's headers. */
  skip: number;
  /** Member names to take from the span, in archive order. */
  members: string[];
  /** Compressed bytes the span is expected to read. */
  hint: number;
}

/** Reading on costs less than a new request below this many compressed bytes. */
export const SPAN_GAP = 2 * 1024 * 1024;
/** Headers and padding around a member's content, at most for ordinary names. */
const SLACK = 4096;
/**
 * zstd decodes a compressed block only once all of it has arrived, and a block holds up to
 * 128 KiB of tar: reading must go that far past where a member is expected to end.
 */
const BLOCK = 128 * 1024;

/** What is known of an archive's frames, for estimating how far a read must go. */
export interface FrameMap {
  /** Tar bytes per frame; null for an uncompressed archive (where `at` is [T, T]). */
  frameSize: number | null;
  /** Compressed offset of frame k, for the frames some index entry starts in. */
  starts: ReadonlyMap<number, number>;
  /** Compressed bytes per tar byte over the whole archive. */
  ratio: number;
}

/** The frames the index knows the start of (every frame an entry starts in). */
export function frameMap(
  entries: Iterable<{ at?: readonly [number, number] | undefined }>,
  frameSize: number | null,
  ratio: number,
): FrameMap {
  const starts = new Map<number, number>();
  if (frameSize !== null)
    for (const e of entries) if (e.at) starts.set(Math.floor(e.at[1] / frameSize), e.at[0]);
  return { frameSize, starts, ratio };
}

/**
 * Where tar offset `t` is expected in the compressed stream: exact for an uncompressed archive;
 * otherwise interpolated inside its frame when the frame's start and the next one's are known,
 * bounded by the next frame's start when only that is, else at the archive's average ratio.
 */
export function compressedAt(map: FrameMap, t: number, from: { c: number; t: number }): number {
  if (map.frameSize === null) return t;
  const F = map.frameSize;
  const k = Math.floor(t / F);
  const c = map.starts.get(k);
  const next = map.starts.get(k + 1);
  if (c !== undefined && next !== undefined) return Math.ceil(c + ((next - c) * (t - k * F)) / F);
  if (next !== undefined) return next;
  if (c !== undefined) return Math.ceil(c + 1.25 * map.ratio * (t - k * F));
  return Math.ceil(from.c + 1.25 * map.ratio * (t - from.t));
}

/** Groups the members into spans (see above), each with the compressed bytes it should read. */
export function planSpans(targets: readonly SeekTarget[], map: FrameMap, gap = SPAN_GAP): Span[] {
  const sorted = [...targets].sort((a, b) => a.at[1] - b.at[1]);
  const spans: Span[] = [];
  let span: Span | undefined;
  let end = 0; // compressed offset where the span's last member is expected to end
  for (const t of sorted) {
    const [c, tar] = t.at;
    const skip = map.frameSize === null ? 0 : tar % map.frameSize;
    const at = compressedAt(map, t.end ?? tar + t.size + SLACK, { c, t: tar - skip });
    const reach = map.frameSize === null ? at : at + BLOCK;
    if (span && c - end <= gap) {
      span.members.push(t.member);
      end = Math.max(end, reach);
      span.hint = end - span.start;
      continue;
    }
    span = { start: c, skip, members: [t.member], hint: reach - c };
    spans.push(span);
    end = reach;
  }
  return spans;
}

/**
 * Each target's `end`: where the next entry of the archive starts (exact, sparse files and long
 * names included), from the tar offsets of the index entries known.
 */
export function withEnds(targets: readonly SeekTarget[], known: Iterable<number>): SeekTarget[] {
  const starts = [...new Set(known)].sort((a, b) => a - b);
  return targets.map((t) => {
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]! <= t.at[1]) lo = mid + 1;
      else hi = mid;
    }
    return lo < starts.length ? { ...t, end: starts[lo]! } : t;
  });
}

/** Compressed bytes the spans are expected to read in all. */
export function spanBytes(spans: readonly Span[]): number {
  return spans.reduce((n, s) => n + s.hint, 0);
}
