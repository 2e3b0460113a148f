/**
 * Which parts of a seekable archive a restore reads (pure). Each member to read has its index
 * entry's `at` (the compressed offset of its frame, its position inside it once decompressed):
 * members are grouped into spans, each read in one pass from its first member's frame. A member
 * whose frame starts close after where the previous one ends is read by decompressing through,
 * which costs less than another request; a distant one starts a new span.
 */

export interface SeekTarget {
  member: string;
  at: readonly [number, number];
  /** Content bytes (for how far the read goes). */
  size: number;
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
 * `ratio`: compressed bytes per tar byte (1 for an uncompressed archive, where `at` is the tar
 * offset and a position inside a frame is always 0).
 */
export function planSpans(targets: readonly SeekTarget[], ratio: number, gap = SPAN_GAP): Span[] {
  const sorted = [...targets].sort((a, b) => a.at[0] - b.at[0] || a.at[1] - b.at[1]);
  const spans: Span[] = [];
  let span: Span | undefined;
  let end = 0; // compressed offset where the span's last member is expected to end
  for (const t of sorted) {
    const [c, p] = t.at;
    const reach = c + Math.ceil(ratio * (p + t.size + SLACK));
    if (span && c - end <= gap) {
      span.members.push(t.member);
      end = Math.max(end, reach);
      span.hint = end - span.start;
      continue;
    }
    span = { start: c, skip: p, members: [t.member], hint: reach - c };
    spans.push(span);
    end = reach;
  }
  return spans;
}

/** Compressed bytes the spans are expected to read in all. */
export function spanBytes(spans: readonly Span[]): number {
  return spans.reduce((n, s) => n + s.hint, 0);
}
