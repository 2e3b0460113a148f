/**
 * What a machine keeps between incremental runs of a job: GNU tar's snapshot file of the job's
 * newest committed backup, and what the job looked like then. Plain files under
 * `<stateDir>/incremental/`, never anything read back from a backup (encrypted backups stay
 * write-only). A run downloads the new snapshot file to a temporary name and makes it the job's
 * state only after its manifest committed, so a failed or cancelled run leaves the previous state
 * as it was, still valid for the next run.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseSnarHead, prepareSnar } from '../archive/snar.ts';
import type { KeptState } from '../plan/incremental.ts';

export interface IncrementalStore {
  /** The job's kept state with its snapshot file, or undefined when there is none (or it is unusable). */
  load(job: string): Promise<(KeptState & { snar: string }) | undefined>;
  /**
   * Stores a run's new snapshot file (prepared for the next run, see archive/snar.ts) under a
   * temporary name; `commit` makes it the job's state, `discard` removes it.
   */
  receive(
    job: string,
    runId: string,
    body: Readable,
    opts: { signal: AbortSignal; rename?: ((name: string) => string) | undefined },
  ): Promise<string>;
  commit(job: string, state: KeptState, received: string): Promise<void>;
  discard(received: string): Promise<void>;
}

export function fileIncrementalStore(stateDir: string): IncrementalStore {
  const dir = join(stateDir, 'incremental');
  const base = (job: string) => encodeURIComponent(job);
  const stateFile = (job: string) => join(dir, `${base(job)}.json`);
  return {
    async load(job) {
      let state: KeptState & { snar: string };
      try {
        const raw = JSON.parse(await readFile(stateFile(job), 'utf8')) as Record<string, unknown>;
        if (typeof raw.backupId !== 'string' || typeof raw.fingerprint !== 'string') return undefined;
        state = {
          backupId: raw.backupId,
          fingerprint: raw.fingerprint,
          snar: snarFile(dir, job, raw.backupId),
        };
      } catch {
        return undefined;
      }
      return (await looksLikeSnar(state.snar)) ? state : undefined;
    },
    async receive(job, runId, body, { signal, rename }) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const temp = join(dir, `.${base(job)}.${runId}.snar.tmp`);
      try {
        await pipeline(body, prepareSnar({ rename }), createWriteStream(temp, { mode: 0o600 }), { signal });
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
      return temp;
    },
    async commit(job, state, received) {
      const snar = snarFile(dir, job, state.backupId);
      await rename(received, snar);
      const tmp = `${stateFile(job)}.tmp`;
      await writeFile(tmp, `${JSON.stringify({ ...state, savedAt: new Date().toISOString() })}\n`, {
        mode: 0o600,
      });
      await rename(tmp, stateFile(job));
      // Older snapshot files of the job are of no further use.
      const prefix = `${base(job)}.`;
      for (const f of await readdir(dir)) {
        if (f.startsWith(prefix) && f.endsWith('.snar') && join(dir, f) !== snar)
          await rm(join(dir, f), { force: true });
      }
    },
    async discard(received) {
      await rm(received, { force: true });
    },
  };
}

function snarFile(dir: string, job: string, backupId: string): string {
  return join(dir, `${encodeURIComponent(job)}.${backupId}.snar`);
}

async function looksLikeSnar(path: string): Promise<boolean> {
  try {
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(256);
      const { bytesRead } = await fh.read(buf, 0, 256, 0);
      return parseSnarHead(buf.subarray(0, bytesRead)) !== undefined;
    } finally {
      await fh.close();
    }
  } catch {
    return false;
  }
}

/** The snapshot file to hand to the server's tar. */
export function openSnar(path: string): Readable {
  return createReadStream(path);
}
