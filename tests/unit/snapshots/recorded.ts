import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import type { Host, RunResult } from '../../../src/remote/host.ts';

/** A recorded tool output from tests/fixtures/snapshots/ (see its README for provenance). */
export function recorded(name: string): string {
  return readFileSync(new URL(`../../fixtures/snapshots/${name}`, import.meta.url), 'utf8');
}

export interface Reply {
  match: RegExp;
  stdout?: string;
  stderr?: string;
  code?: number;
}

/**
 * A Host that answers commands from a script of recorded replies (first match wins) and keeps
 * every command it was given: for providers whose tools cannot run here (LVM, ZFS).
 */
export function scriptedHost(replies: Reply[]): Host & { commands: string[] } {
  const commands: string[] = [];
  const run = async (command: string): Promise<RunResult> => {
    commands.push(command);
    const r = replies.find((x) => x.match.test(command));
    if (!r) throw new Error(`unexpected command: ${command}`);
    return { code: r.code ?? 0, signal: null, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  return {
    name: 'files1',
    commands,
    run,
    async exec(command) {
      const r = await run(command);
      const out = new PassThrough();
      out.end(r.stdout);
      const err = new PassThrough();
      err.end(r.stderr);
      return { stdin: new PassThrough(), stdout: out, stderr: err, done: Promise.resolve(r), kill() {} };
    },
    async close() {},
  };
}
