/**
 * Frees streamed Buffers promptly. Every chunk that flows through bo (an SSH packet, a
 * decompressed block) is a fresh Buffer whose memory lives outside the V8 heap. Their small JS
 * wrappers never fill the young generation, so V8 notices them only once external memory has
 * grown by ~64 MB, and then runs a full mark-compact: RSS swings by that much, and a gigabyte
 * streamed costs dozens of full collections. A minor GC (about 0.1 ms on bo's small heap) after
 * every few MiB streamed frees the chunks while they are still young.
 *
 * The collector comes from `--expose-gc`, switched on only long enough to fetch the function;
 * where that is not possible this does nothing and V8 collects as it would anyway.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (opts: {
  type: 'minor' | 'major';
  execution?: 'sync' | 'async';
  flavor?: 'regular' | 'last-resort';
}) => void;

const EVERY = 8 * 1024 * 1024;
let pending = 0;
let gc: Gc | null | undefined;

function collector(): Gc | null {
  if (gc !== undefined) return gc;
  try {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as Gc;
    setFlagsFromString('--no-expose-gc');
  } catch {
    gc = null;
  }
  return gc;
}

/** Records `bytes` of freshly allocated stream data; collects young garbage every few MiB. */
export function noteStreamed(bytes: number): void {
  pending += bytes;
  if (pending < EVERY) return;
  pending = 0;
  collector()?.({ type: 'minor' });
}

/**
 * Collects the whole heap and hands its free pages back to the system: for after a burst of
 * allocation whose garbage outlived the young generation, such as loading a config (~200 bytes
 * of short-lived objects per byte of YAML: ~380 MB for 2,000 jobs, ~35 MB of it promoted). The
 * old generation is otherwise left alone below bin/bo's 64 MB initial size, so that garbage stayed
 * for minutes, until the heap filled or V8's memory reducer ran. Takes ~50-100 ms.
 */
export function compactHeap(): void {
  collector()?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}
