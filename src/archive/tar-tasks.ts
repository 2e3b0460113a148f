/**
 * Bounded background work for extraction: content writes and per-descriptor finishing (owner,
 * mode, times, close) overlap with parsing the next entries, so a restore is not one threadpool
 * round trip after another. Work on open descriptors goes here, and one kind of name operation:
 * a file's commit (tar-fs.ts `commitFile`), which renames it from its temporary name onto its
 * real one, first removing an empty directory in the way (rmdir, and the directory caches).
 * Every other name operation (lstat, open, mkdir, symlink, link, unlink, rmdir) runs
 * sequentially in archive order, and first waits for the pending commits on its name and its
 * ancestors (`SafeTree#settle`, called by `#parents` and `#clear`): that keeps the symlink
 * checks sound.
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
