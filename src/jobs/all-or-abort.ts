import { isAbortError } from '../errors.ts';

/**
 * Like Promise.all, but on the first failure it calls `abort` (so the sibling operations stop)
 * and then waits for every operation to settle before rejecting. Callers can clean up knowing
 * nothing is still writing.
 *
 * It rejects with the root cause: the first error that is not an abort. Aborting the siblings
 * makes them reject too, and one of them may do so before the operation that actually failed
 * (a stream torn down by the abort reports before the disk-full write that caused it).
 */
export async function allOrAbort<T extends readonly unknown[]>(
  tasks: { [K in keyof T]: Promise<T[K]> },
  abort: (err: unknown) => void,
): Promise<T> {
  const errors: unknown[] = [];
  const guarded = (tasks as readonly Promise<unknown>[]).map((t) =>
    t.catch((err: unknown) => {
      errors.push(err);
      if (errors.length === 1) abort(err);
      throw err;
    }),
  );
  const results = await Promise.allSettled(guarded);
  if (errors.length > 0) throw errors.find((e) => !isAbortError(e)) ?? errors[0];
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
