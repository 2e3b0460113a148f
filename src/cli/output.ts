/** How a command talks to the person (or script) that ran it. */
export interface Output {
  /** Data and summaries: stdout. */
  print(text: string): void;
  /**
   * Resolves once stdout has taken what was printed (or closed). A pipe reads slower than bo
   * prints 200,000 rows, and what it has not taken yet waits in memory: print in batches and
   * await this between them.
   */
  drain(): Promise<void>;
  /** Machine-readable result for --json: one JSON document on stdout. */
  json(value: unknown): void;
  /** Notices and progress: stderr, so stdout stays clean for pipes. */
  note(text: string): void;
  /** True when stderr is a terminal: progress bars and colours are allowed. */
  readonly interactive: boolean;
  /** Redraws a single status line in place (TTY only); `undefined` clears it. */
  status(line: string | undefined): void;
}

export function createOutput(
  stdout: NodeJS.WriteStream = process.stdout,
  stderr: NodeJS.WriteStream = process.stderr,
): Output {
  const interactive = Boolean(stderr.isTTY) && !process.env.CI;
  let statusShown = false;
  const clear = () => {
    if (statusShown) stderr.write('\r\x1b[2K');
    statusShown = false;
  };
  return {
    interactive,
    print: (text) => {
      clear();
      stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    },
    drain: () =>
      stdout.writableNeedDrain
        ? new Promise<void>((resolve) => {
            const done = () => {
              stdout.off('drain', done);
              stdout.off('close', done);
              resolve();
            };
            stdout.on('drain', done);
            stdout.on('close', done);
          })
        : Promise.resolve(),
    json: (value) => stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    note: (text) => {
      clear();
      stderr.write(`${text}\n`);
    },
    status: (line) => {
      if (!interactive) return;
      clear();
      if (line !== undefined) {
        stderr.write(line.slice(0, (stderr.columns || 100) - 1));
        statusShown = true;
      }
    },
  };
}
