/**
 * The server side of an incremental (or chain-starting full) run: a private temporary directory
 * on the server holding GNU tar's snapshot file. bo uploads the job's kept file before tar runs
 * (nothing for a full: tar starts from an empty one), tar reads and rewrites it, and after tar
 * succeeded bo downloads the new one into its state store. The directory is always removed.
 *
 *   state dir ─ snapshot file ─▶ ssh: mktemp -d; cat > DIR/snar ─▶ tar -g DIR/snar … ─▶ cat DIR/snar ─▶ state dir (temp name)
 */
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { prepareSnar } from '../archive/snar.ts';
import { BoError, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import { shellQuote } from '../plan/shell.ts';
import type { Host } from '../remote/host.ts';
import { collectTail } from '../remote/stderr-tail.ts';
import type { IncrementalStore } from './incremental-state.ts';

export interface RemoteSnar {
  /** The snapshot file's path on the server, for `tar --listed-incremental`. */
  path: string;
  /** After tar succeeded: the updated file into the store, under a temporary name (returned). */
  fetch(store: IncrementalStore, job: string, runId: string, signal: AbortSignal): Promise<string>;
  /** Removes the directory on the server; best effort, under its own time limit. */
  close(): Promise<void>;
}

const OPEN = `umask 077; d=$(mktemp -d "\${TMPDIR:-/tmp}/bo-snar.XXXXXXXX") || exit 1; printf '%s\\n' "$d"; exec cat > "$d/snar"`;

export async function openRemoteSnar(
  host: Host,
  opts: {
    /** The kept snapshot file to continue from; undefined for a full. */
    local: string | undefined;
    /** Archived member names to the names tar will read (snapshot sources). */
    toOnDisk?: ((name: string) => string) | undefined;
    /** And back, for the file tar writes. */
    toArchived?: ((name: string) => string) | undefined;
    signal: AbortSignal;
    log: Logger;
  },
): Promise<RemoteSnar> {
  const proc = await host.exec(OPEN, { signal: opts.signal });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const stderr = collectTail(proc.stderr);
  const feed = opts.local
    ? pipeline(createReadStream(opts.local), prepareSnar({ margin: 0, rename: opts.toOnDisk }), proc.stdin)
    : Promise.resolve(proc.stdin.end());
  const [exit] = await Promise.all([proc.done, feed]);
  const dir = out.split('\n')[0] ?? '';
  if (exit.code !== 0 || !dir.startsWith('/')) {
    throw new BoError(
      `cannot prepare tar's snapshot file on ${host.name}: ${stderr().trim() || `exit ${exit.code}`}`,
      {
        hint: 'the server needs mktemp and a writable $TMPDIR or /tmp',
      },
    );
  }
  const path = `${dir}/snar`;
  return {
    path,
    async fetch(store, job, runId, signal) {
      const p = await host.exec(`cat ${shellQuote(path)}`, { signal });
      const err = collectTail(p.stderr);
      p.stdin.end();
      const [received, done] = await Promise.all([
        store.receive(job, runId, p.stdout, { signal, rename: opts.toArchived }),
        p.done,
      ]);
      if (done.code !== 0) {
        await store.discard(received);
        throw new BoError(
          `cannot read tar's snapshot file on ${host.name}: ${err().trim() || `exit ${done.code}`}`,
        );
      }
      return received;
    },
    async close() {
      try {
        await host.run(`rm -rf -- ${shellQuote(dir)}`, { signal: AbortSignal.timeout(60_000) });
      } catch (err) {
        opts.log.warn({ dir, err: errorMessage(err) }, 'Could not remove the temporary snapshot directory');
      }
    },
  };
}
