import { shellQuote } from '../plan/shell.ts';
import type { ProbeOutput } from './check.ts';

/**
 * Batching: the shell commands of every probe check of a host become one script, run in one
 * exec. Each section runs in its own subshell (an `exit` or `cd` stays inside it); sections that
 * may block run as `sh -c` under coreutils `timeout` when the host has it (a df stuck on a dead
 * NFS mount must not hang the rest). Markers on both stdout and stderr frame each section so the
 * outputs can be split again.
 * Pure: building and splitting only.
 */

const MARK = '@@bo:';
const SIMPLE = /^[\w./=-]+( [\w./=-]+)*$/;

export interface ProbeSection {
  id: string;
  command: string;
  /** Run under `timeout` (see ProbeCheck.mayHang). */
  bounded: boolean;
}

export function buildProbeScript(sections: readonly ProbeSection[], sectionTimeoutSec: number): string {
  const lines = [
    'PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"; LC_ALL=C; export PATH LC_ALL',
    // The host's clock, first thing, for the ntp check's skew measurement.
    `printf '${MARK}hello %s\\n' "$(date +%s.%N 2>/dev/null)"`,
    // coreutils (or busybox ≥ 1.30) timeout; a host without it runs the sections unbounded.
    `T=; command -v timeout >/dev/null 2>&1 && T="timeout -k 2 ${Math.max(1, Math.round(sectionTimeoutSec))}"`,
    `m() { printf '\\n${MARK}%s\\n' "$1"; printf '\\n${MARK}%s\\n' "$1" >&2; }`,
  ];
  for (const s of sections) {
    // A plain command line needs no shell of its own under timeout: one process less per section.
    const run = !s.bounded
      ? `(\n${s.command}\n)`
      : SIMPLE.test(s.command)
        ? `$T ${s.command}`
        : `$T sh -c ${shellQuote(s.command)}`;
    lines.push(`m ${s.id}; ${run} </dev/null; printf '\\n${MARK}rc=%s\\n' "$?"`);
  }
  lines.push(`m end`);
  return lines.join('\n');
}

export interface SplitProbe {
  /** The host's clock as printed when the script started, in ms since the epoch. */
  hostTimeMs?: number;
  sections: Map<string, ProbeOutput>;
  /** True when the script ran to its end marker. */
  complete: boolean;
}

/** Splits the captured stdout/stderr back into sections; a section without its rc was cut short. */
export function splitProbeOutput(stdout: string, stderr: string): SplitProbe {
  const out: SplitProbe = { sections: new Map(), complete: false };
  const hello = new RegExp(`^${MARK}hello (\\d+)(?:\\.(\\d+))?`, 'm').exec(stdout);
  if (hello) out.hostTimeMs = Number(hello[1]) * 1000 + Number(`0.${hello[2] ?? '0'}`) * 1000;
  const errs = splitByMarker(stderr);
  let id: string | undefined;
  let buf: string[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(MARK)) {
      if (id !== undefined) buf.push(line);
      continue;
    }
    const tag = line.slice(MARK.length);
    const rc = /^rc=(\d+)$/.exec(tag);
    if (rc && id !== undefined) {
      out.sections.set(id, { stdout: trimBlank(buf), stderr: errs.get(id) ?? '', code: Number(rc[1]) });
      id = undefined;
    } else if (tag === 'end') {
      out.complete = true;
    } else if (!tag.startsWith('hello')) {
      if (id !== undefined)
        out.sections.set(id, { stdout: trimBlank(buf), stderr: errs.get(id) ?? '', code: null });
      id = tag;
      buf = [];
    }
  }
  if (id !== undefined)
    out.sections.set(id, { stdout: trimBlank(buf), stderr: errs.get(id) ?? '', code: null });
  return out;
}

function splitByMarker(text: string): Map<string, string> {
  const map = new Map<string, string>();
  let id: string | undefined;
  let buf: string[] = [];
  const flush = () => {
    if (id !== undefined) map.set(id, trimBlank(buf));
  };
  for (const line of text.split('\n')) {
    if (line.startsWith(MARK)) {
      flush();
      id = line.slice(MARK.length);
      buf = [];
    } else buf.push(line);
  }
  flush();
  return map;
}

/** Drops the blank lines the markers add around a section. */
function trimBlank(lines: string[]): string {
  let start = 0;
  let end = lines.length;
  while (start < end && lines[start] === '') start++;
  while (end > start && lines[end - 1] === '') end--;
  return lines.slice(start, end).join('\n') + (end > start ? '\n' : '');
}
