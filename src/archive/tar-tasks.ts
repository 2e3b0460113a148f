/**
 * Bounded background work for extraction: content writes and per-descriptor finishing (owner,
 * mode, times, close) overlap with parsing the next entries, so a restore is not one threadpool
 * round trip after another. Only work on open descriptors goes here; every operation on names
 * (lstat, open, mkdir, symlink, link, unlink) stays sequential, which keeps the symlink checks
 * sound.
 */
export class BackgroundTasks {
  readonly #pending = new Set<Promise<void>>();
  #error: unknown;
  #failed = false;
  /** Bytes held by queued writes. */
  bytes = 0;

  /** Starts a task; its failure is reported by the next `check`, `throttle` or `drain`. */
  run(task: () => Promise<unknown>): void {
    const p: Promise<void> = task().then(
      () => {
        this.#pending.delete(p);
      },
      (err: unknown) => {
        this.#pending.delete(p);
        if (!this.#failed) {
          this.#failed = true;
          this.#error = err;
        }
      },
    );
    this.#pending.add(p);
  }

  check(): void {
    if (this.#failed) throw this.#error;
  }

  /** Waits while more than `tasks` tasks or `bytes` queued bytes are in flight. */
  async throttle(tasks: number, bytes: number): Promise<void> {
    this.check();
    while (this.#pending.size > 0 && (this.#pending.size > tasks || this.bytes > bytes)) {
      await Promise.race(this.#pending);
      this.check();
    }
  }

  /** Waits for everything; throws the first failure. */
  async drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
    this.check();
  }

  /** Waits for everything, ignoring failures (cleanup after an error). */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled(this.#pending);
  }
}
