import { RemoteError } from '../errors.ts';
import type { Host } from '../remote/host.ts';

/**
 * Runs a snapshot tool's command and returns its stdout; a non-zero exit becomes a RemoteError
 * naming what was attempted, the host and the tool's own last words on stderr.
 */
export async function runChecked(
  host: Host,
  command: string,
  opts: { signal: AbortSignal; what: string },
): Promise<string> {
  const r = await host.run(command, { signal: opts.signal });
  if (r.code !== 0) {
    const why = lastLines(r.stderr) || `exit ${r.code ?? r.signal}`;
    throw new RemoteError(`${opts.what} on ${host.name} failed: ${why}`);
  }
  return r.stdout;
}

/** The end of a tool's stderr, joined on one line: enough to see why, bounded for floods. */
export function lastLines(stderr: string, n = 4): string {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .slice(-n)
    .join(' / ')
    .slice(-1000);
}
