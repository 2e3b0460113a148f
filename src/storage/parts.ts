const MiB = 1024 * 1024;

/** S3 accepts at most 10,000 parts per multipart upload. */
export const MAX_PARTS = 10_000;
/** S3's minimum size for every part but the last. */
export const MIN_PART_SIZE = 5 * MiB;

/** Size in bytes of part `n` (1-based). Every part but the last has exactly this size. */
export type PartSizeSchedule = (partNumber: number) => number;

/**
 * The default schedule grows with the upload, because the length of an archive is unknown when
 * it starts: 5 MiB (S3's minimum) for parts 1–1000, then doubling every 1000 parts (10, 20, 40,
 * 80, 160 MiB) up to 256 MiB from part 6001 on. Small archives keep small parts (little memory:
 * parts in flight are most of a backup's buffers; cheap retries) while 10,000 parts reach
 * (5+10+20+40+80+160)·1000 MiB + 256 MiB·4000 = 1,339,000 MiB ≈ 1.28 TiB (1.4 TB), the largest
 * object this schedule can store. A fixed 5 MiB part would stop at 49 GiB.
 */
export function growingPartSize(
  opts: { first?: number; every?: number; max?: number } = {},
): PartSizeSchedule {
  const first = opts.first ?? MIN_PART_SIZE;
  const every = opts.every ?? 1000;
  const max = opts.max ?? 256 * MiB;
  return (n) => Math.min(max, first * 2 ** Math.floor((n - 1) / every));
}

/**
 * The growing schedule with its parts capped at the smallest size (5, 10, 20 … 256 MiB) that
 * still fits `bytes` in MAX_PARTS parts: an upload known to stay within `bytes` (a volume)
 * never buffers parts larger than it needs. 4 GiB takes 5 MiB parts throughout.
 */
export function partScheduleFor(bytes: number): PartSizeSchedule {
  for (const max of [5, 10, 20, 40, 80, 160, 256]) {
    const schedule = growingPartSize({ max: max * MiB });
    if (maxObjectSize(schedule) >= bytes) return schedule;
  }
  const size = Math.ceil(bytes / MAX_PARTS / MiB) * MiB; // beyond 1.28 TiB: S3 allows parts up to 5 GiB
  return () => size;
}

/** The largest object a schedule can store in MAX_PARTS parts. */
export function maxObjectSize(schedule: PartSizeSchedule, maxParts = MAX_PARTS): number {
  let total = 0;
  for (let n = 1; n <= maxParts; n++) total += schedule(n);
  return total;
}

/**
 * Cuts a stream of chunks into parts of requested sizes, copying into Buffers reused from a
 * small free list, so a long upload allocates a bounded number of part buffers.
 */
export interface PartReader {
  /** The next part of at most `size` bytes; shorter only at the end of the body (empty at EOF). */
  read(size: number): Promise<Buffer>;
  /** Returns a part's buffer for reuse once its upload finished. */
  release(part: Buffer): void;
}

export function createPartReader(chunks: AsyncIterator<Buffer>, keepFree: number): PartReader {
  let pending: Buffer | undefined;
  let done = false;
  const free: Buffer[] = [];
  return {
    async read(size) {
      let buf: Buffer | undefined;
      let filled = 0;
      while (filled < size && !done) {
        if (!pending) {
          const r = await chunks.next();
          if (r.done) {
            done = true;
            break;
          }
          pending = r.value;
          if (pending.length === 0) {
            pending = undefined;
            continue;
          }
        }
        buf ??= takeFree(free, size) ?? Buffer.allocUnsafeSlow(size);
        const n = Math.min(size - filled, pending.length);
        pending.copy(buf, filled, 0, n);
        filled += n;
        pending = n < pending.length ? pending.subarray(n) : undefined;
      }
      return buf ? buf.subarray(0, filled) : Buffer.alloc(0);
    },
    release(part) {
      const whole = Buffer.from(part.buffer, part.byteOffset, part.buffer.byteLength - part.byteOffset);
      if (part.byteOffset === 0 && free.length < keepFree) free.push(whole);
    },
  };
}

function takeFree(free: Buffer[], size: number): Buffer | undefined {
  const i = free.findIndex((b) => b.length === size);
  if (i < 0) {
    free.length = 0; // the schedule moved on to a larger size: drop the old buffers
    return undefined;
  }
  return free.splice(i, 1)[0];
}
