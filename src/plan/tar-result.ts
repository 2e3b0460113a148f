/**
 * What a finished `tar` command means. The commands from tar.ts print `bo-tar-exit=N` and
 * `bo-zstd-exit=N` / `bo-gzip-exit=N` on stderr (no pipefail in POSIX sh), and GNU tar's exit
 * status means: 0 success; 1 some files changed or vanished while being read (the archive is
 * usable: success with warnings); 2 fatal (a path missing, permission denied, …). Pure.
 */

export interface ExitMarkers {
  tar: number | undefined;
  compressor: { name: string; code: number } | undefined;
  /** The other stderr lines, trimmed, empty ones dropped. */
  lines: string[];
}

const MARKER = /^bo-(tar|zstd|gzip)-exit=(\d+)$/;

export function parseExitMarkers(stderr: string): ExitMarkers {
  const out: ExitMarkers = { tar: undefined, compressor: undefined, lines: [] };
  for (const raw of stderr.split('\n')) {
    const line = raw.trim();
    const m = MARKER.exec(line);
    if (!m) {
      if (line) out.lines.push(line);
    } else if (m[1] === 'tar') out.tar = Number(m[2]);
    else out.compressor = { name: m[1]!, code: Number(m[2]) };
  }
  return out;
}

export type TarVerdict =
  | { ok: true; warnings: string[] }
  | { ok: false; message: string; warnings: string[] };

/** Lines tar prints that say nothing about the files. */
const NOISE = [/^Exiting with failure status due to previous errors$/, /^Removing leading `\/' from /];
const SIGPIPE = 141;

/**
 * Classifies a tar run from its stderr markers; `exit` (the command's own status) only matters
 * when a marker is missing, e.g. the command was killed.
 */
export function classifyTarResult(opts: {
  stderr: string;
  exit?: { code: number | null; signal: string | null } | undefined;
}): TarVerdict {
  const m = parseExitMarkers(opts.stderr);
  const tarLines = m.lines
    .filter((l) => l.startsWith('tar: '))
    .map((l) => l.slice(5))
    .filter((l) => !NOISE.some((re) => re.test(l)));
  const otherLines = m.lines.filter((l) => !l.startsWith('tar: '));
  const fail = (message: string): TarVerdict => ({ ok: false, message, warnings: tarLines });
  const detail = (lines: string[]) => (lines.length > 0 ? `: ${lines.slice(0, 5).join('; ')}` : '');

  const comp = m.compressor;
  const compFailed = comp !== undefined && comp.code !== 0;
  const tarFailed = m.tar !== undefined && m.tar > 1;
  // A side killed by SIGPIPE only reports that the other side went away: blame the other one.
  if (compFailed && !(comp.code === SIGPIPE && tarFailed)) {
    return fail(`${comp.name} failed on the server (${exitText(comp.code)})${detail(otherLines)}`);
  }
  if (m.tar === undefined) {
    const how = opts.exit
      ? ` (command ${opts.exit.signal ? `killed by ${opts.exit.signal}` : `exited ${opts.exit.code}`})`
      : '';
    return fail(`tar did not report its exit status${how}${detail([...tarLines, ...otherLines].slice(-5))}`);
  }
  if (m.tar === 0 || m.tar === 1) return { ok: true, warnings: tarLines };
  if (m.tar === 2) return fail(`tar reported errors${detail(tarLines)}`);
  if (m.tar === SIGPIPE)
    return fail(
      `tar was stopped by SIGPIPE: its output was closed before the archive was complete${detail(tarLines)}`,
    );
  return fail(`tar failed (${exitText(m.tar)})${detail([...tarLines, ...otherLines])}`);
}

function exitText(code: number): string {
  return code > 128 ? `killed by signal ${code - 128}` : `exit ${code}`;
}
