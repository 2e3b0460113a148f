/**
 * The thread fs-walk-thread.ts starts: walks and stats (fs-walk.ts) and posts what it finds in
 * batches, never more than its credits ahead of the reader, so a slow reader holds only a few
 * batches. A failure is posted as its message, code and path, and ends the thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { walkFilesSync } from './fs-walk.ts';
import type { WalkBatch, WalkThreadData } from './fs-walk-thread.ts';

const BATCH = 256;
const { root, prefix, credits: shared } = workerData as WalkThreadData;
const credits = new Int32Array(shared);
const port = parentPort!;

let batch: WalkBatch = { keys: [], sizes: [], mtimes: [], targets: [] };
const flush = () => {
  // Waits (this thread only) until the reader has taken enough of what was posted.
  while (Atomics.load(credits, 0) <= 0) Atomics.wait(credits, 0, Atomics.load(credits, 0), 1000);
  Atomics.sub(credits, 0, 1);
  port.postMessage(batch);
  batch = { keys: [], sizes: [], mtimes: [], targets: [] };
};

try {
  for (const f of walkFilesSync(root, prefix)) {
    if (!f) continue;
    batch.keys.push(f.key);
    batch.sizes.push(f.size);
    batch.mtimes.push(f.mtimeMs);
    batch.targets.push(f.target ?? null);
    if (batch.keys.length === BATCH) flush();
  }
  if (batch.keys.length > 0) flush();
  port.postMessage({ done: true });
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  port.postMessage({ error: { message: e.message, code: e.code, path: e.path } });
}
