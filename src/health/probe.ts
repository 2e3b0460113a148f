import { shellQuote } from '../plan/shell.ts';
import type { ProbeOutput } from './check.ts';

/**
 * Batching: the shell commands of every probe check of a host become one script, run in one
 * exec. Markers on both stdout and stderr frame each section so the outputs can be split again.
 * Cheap on the host, as it runs every few minutes on every server:
 * - sections that cannot hang (/proc reads) run first, in the script's own shell, in `{ }`
 *   groups, reading files with `c` (shell `read`, no `cat` process);
 * - sections that may hang (a df stuck on a dead NFS mount) run after them, each under
 *   coreutils `timeout` where the host has it; a plain command line runs as `timeout CMD`,
 *   anything else as `timeout sh -c`; sections of one group share one `sh -c`;
 * - a section's guard (`command -v smartctl`) is tested in the script's shell, so a missing tool
 *   costs no process at all.
 * Pure: building and splitting only.
 */

const MARK = '@@bo:';
const SIMPLE = /^[\w./=,-]+( [\w./=,-]+)*( 2>&1)?$/;

export interface ProbeSection {
  id: string;
  command: string;
  /** Run under `timeout` (see ProbeCheck.mayHang). */
  bounded: boolean;
  /** Builtin-only test run first; when false, `otherwise` runs instead (see ProbeCheck.guard). */
  guard?: { test: string; otherwise: string } | undefined;
  /** Bounded sections of one group share one `timeout sh -c`. */
  group?: string | undefined;
  /** Run when `command` failed, not by timeout (see ProbeCheck.fallback). */
  fallback?: string | undefined;
}

const MARKERS = `m() { printf '\\n${MARK}%s\\n' "$1"; printf '\\n${MARK}%s\\n' "$1" >&2; }; r() { printf '\\n${MARK}rc=%s\\n' "$1"; }`;

export function buildProbeScript(sections: readonly ProbeSection[], sectionTimeoutSec: number): string {
  const lines = [
    'PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"; LC_ALL=C; export PATH LC_ALL',
    // The host's clock, first thing, for the ntp check's skew measurement (bash 5 has it without a date process).
    `_t=\${EPOCHREALTIME:-}; [ -n "$_t" ] || _t=$(date +%s.%N 2>/dev/null); printf '${MARK}hello %s\\n' "$_t"`,
    // coreutils (or busybox ≥ 1.30) timeout; a host without it runs the sections unbounded.
    `T=; command -v timeout >/dev/null 2>&1 && T="timeout -k 2 ${Math.max(1, Math.round(sectionTimeoutSec))}"`,
    MARKERS,
    `c() { while IFS= read -r _l || [ -n "$_l" ]; do printf '%s\\n' "$_l"; done <"$1"; }`,
  ];
  for (const s of sections.filter((x) => !x.bounded)) {
    lines.push(`m ${s.id}; {\n${s.command}\n} </dev/null; r $?`);
  }
  const bounded = sections.filter((x) => x.bounded);
  const done = new Set<ProbeSection>();
  for (const s of bounded) {
    if (done.has(s)) continue;
    const members = s.group ? bounded.filter((x) => x.group === s.group) : [s];
    for (const x of members) done.add(x);
    lines.push(members.length === 1 ? single(s) : grouped(members));
  }
  lines.push(`m end`);
  return lines.join('\n');
}

/**
 * One bounded section: guard in this shell, the command under timeout, the fallback if it failed
 * without output (GNU df exits 1 for one unreadable mount yet prints the whole table).
 */
function single(s: ProbeSection): string {
  const run = SIMPLE.test(s.command) ? `$T ${s.command}` : `$T sh -c ${shellQuote(s.command)}`;
  const body = s.fallback
    ? `_o=$(${run}); _r=$?; if [ -n "$_o" ]; then printf '%s\\n' "$_o"; elif [ $_r -ne 0 ] && [ $_r -lt 124 ]; then echo "@@bo-fallback"; $T sh -c ${shellQuote(s.fallback)}; _r=$?; fi; r $_r`
    : `${run}; r $?`;
  if (!s.guard) return `m ${s.id}; { ${body}; } </dev/null`;
  return `m ${s.id}; if ${s.guard.test}; then { ${body}; } </dev/null; else ${s.guard.otherwise}; r $?; fi`;
}

/**
 * Sections sharing one `timeout sh -c`: their markers are printed inside it; when timeout kills
 * it, the rc printed after it closes the section that hung (124), and the sections after it are
 * missing (host-run reports them as not run).
 */
function grouped(members: ProbeSection[]): string {
  const inner = [MARKERS];
  for (const s of members) {
    inner.push(
      s.guard
        ? `m ${s.id}; if ${s.guard.test}; then\n${s.command}\nelse ${s.guard.otherwise}; fi; r $?`
        : `m ${s.id}; {\n${s.command}\n}; r $?`,
    );
  }
  const script = `$T sh -c ${shellQuote(inner.join('\n'))} </dev/null; r $?`;
  const guards = members.map((s) => s.guard?.test);
  if (guards.some((g) => g === undefined)) return script;
  // Nothing to run when every guard fails: the group's answers come from this shell alone.
  const otherwise = members.map((s) => `m ${s.id}; ${s.guard!.otherwise}; r $?`).join('; ');
  return `if ${[...new Set(guards)].join(' || ')}; then ${script}; else ${otherwise}; fi`;
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
    if (rc) {
      // An rc with no open section is a group's own, after its last section closed: nothing to do.
      if (id !== undefined)
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
