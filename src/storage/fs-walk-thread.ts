/**
 * A filesystem walk on a thread of its own, for listings big enough to be worth one: prune's
 * listing of a whole job (200,000 folders, a readdir and a stat each) is seconds of system
 * calls. On its own thread they run beside the reader's work on what they find, on another
 * core, and this thread never blocks in a call that hangs (a dead NAS mount): a cancellation
 * ends the listing at once. Yields what fs-walk.ts's walk finds, each with its stat.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type WalkedFile, walkStart } from './fs-walk.ts';

export interface WalkThreadData {
  root: string;
  prefix: string;
  /** Int32: batches the thread may post before the reader takes one more. */
  credits: SharedArrayBuffer;
}

export interface WalkBatch {
  keys: string[];
  sizes: number[];
  mtimes: number[];
  /** For a temp file, the key it was going to be renamed to; else null. */
  targets: Array<string | null>;
}

type Message = WalkBatch | { done: true } | { error: { message: string; code?: string; path?: string } };

/**
 * Batches posted ahead of the reader: at most 128 × 256 entries (~4 MB) wait in memory, enough
 * for the walk to go on while its reader does something else first (prune reads the catalog).
 */
const AHEAD = 128;

export async function* walkInThread(
  root: string,
  prefix: string,
  signal?: AbortSignal,
): AsyncGenerator<WalkedFile> {
  signal?.throwIfAborted();
  walkStart(prefix); // a bad prefix is refused here, as a UsageError, not by the thread
  const credits = new Int32Array(new SharedArrayBuffer(4));
  credits[0] = AHEAD;
  // The worker's source beside this file: .ts run from src/, .js from dist/.
  const here = fileURLToPath(import.meta.url);
  const script = new URL(`./fs-walk-worker${extname(here)}`, import.meta.url);
  const data: WalkThreadData = { root, prefix, credits: credits.buffer as SharedArrayBuffer };
  const worker = new Worker(script, { workerData: data });
  const queue: Array<Message | { exit: number } | { crash: Error }> = [];
  let wake: (() => void) | undefined;
  const push = (m: Message | { exit: number } | { crash: Error }) => {
    queue.push(m);
    wake?.();
  };
  worker.on('message', push);
  worker.on('error', (crash: Error) => push({ crash }));
  worker.on('exit', (exit) => push({ exit }));
  const onAbort = () => wake?.();
  signal?.addEventListener('abort', onAbort);
  try {
    for (;;) {
      if (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      signal?.throwIfAborted();
      const m = queue.shift();
      if (!m) continue;
      if ('done' in m) return;
      if ('error' in m) throw Object.assign(new Error(m.error.message), m.error);
      if ('crash' in m) throw m.crash;
      if ('exit' in m) throw new Error(`the listing thread stopped (exit code ${m.exit}) before it finished`);
      Atomics.add(credits, 0, 1);
      Atomics.notify(credits, 0);
      for (let i = 0; i < m.keys.length; i++) {
        const target = m.targets[i];
        yield {
          key: m.keys[i]!,
          size: m.sizes[i]!,
          mtimeMs: m.mtimes[i]!,
          ...(target !== null && target !== undefined ? { target } : {}),
        };
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    Atomics.add(credits, 0, AHEAD); // a thread waiting for credits goes on, and is stopped
    Atomics.notify(credits, 0);
    // Not awaited, and not keeping the process alive: a thread stuck in a call to a dead mount
    // must not hold its caller (a cancelled prune) too. It stops when the call returns.
    worker.unref();
    void worker.terminate().catch(() => {});
  }
}
