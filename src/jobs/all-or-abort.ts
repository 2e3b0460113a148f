/**
 * Like Promise.all, but on the first failure it calls `abort` (so the sibling operations stop)
 * and then waits for every operation to settle before rejecting. Callers can clean up knowing
 * nothing is still writing.
 */
export async function allOrAbort<T extends readonly unknown[]>(
  tasks: { [K in keyof T]: Promise<T[K]> },
  abort: (err: unknown) => void,
): Promise<T> {
  let first: { err: unknown } | undefined;
  const guarded = (tasks as readonly Promise<unknown>[]).map((t) =>
    t.catch((err: unknown) => {
      if (!first) {
        first = { err };
        abort(err);
      }
      throw err;
    }),
  );
  const results = await Promise.allSettled(guarded);
  if (first) throw first.err;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
