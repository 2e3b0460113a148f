import type { Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream';

/**
 * `head` piped through `stages`, returned as the last stage's readable side. An error in any
 * stage destroys every stage, so whoever reads the result sees the error instead of a clean end.
 */
export function chainStreams(head: Readable, stages: Duplex[]): Readable {
  const tail = stages[stages.length - 1];
  if (!tail) return head;
  pipeline([head, ...stages] as unknown as [Readable, Duplex], (err) => {
    if (err && !tail.destroyed) tail.destroy(err);
  });
  return tail;
}
