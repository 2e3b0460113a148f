/**
 * Releasing a snapshot that a process still reads fails: `umount` says "target is busy" (and the
 * LVM snapshot is left behind, its CoW space filling), `zfs destroy` says "dataset is busy". A
 * cancelled backup's tar is killed, but dying takes a moment (longer when it is stuck in I/O).
 * So before releasing, bo waits, bounded, until no process has a file, working directory or root
 * under the snapshot, and the busy-prone commands are retried a few times. Pure.
 */
import { shellQuote } from '../plan/shell.ts';

export const WAIT_POLL_S = 0.5;
export const BUSY_TRIES = 5;
export const BUSY_DELAY_S = 2;
export const STILL_BUSY = 'bo-busy';

/**
 * Escapes the glob characters of fnmatch(3) patterns (find(1) -lname here; tar's --exclude uses
 * it too, via bo-dirs.ts `literalExclude`), so the pattern matches exactly `path`.
 */
export function globEscape(path: string): string {
  return path.replace(/[*?[\\]/g, '\\$&');
}

/**
 * Polls /proc until nothing uses `path` (exit 0), or prints `bo-busy PID COMM` lines for the
 * processes still using it after `timeoutS` (exit 0 too: the caller decides).
 */
export function waitUnusedCommand(path: string, timeoutS: number): string {
  const p = shellQuote(globEscape(path.replace(/\/+$/, '')));
  const rounds = Math.max(1, Math.ceil(timeoutS / WAIT_POLL_S));
  const users = `find /proc/[0-9]*/fd /proc/[0-9]*/cwd /proc/[0-9]*/root -maxdepth 1 \\( -lname ${p} -o -lname ${p}'/*' \\) -print 2>/dev/null | cut -d/ -f3 | sort -u`;
  return [
    `i=0`,
    `while u=$(${users}); [ -n "$u" ]; do`,
    `  i=$((i+1)); if [ $i -ge ${rounds} ]; then`,
    `    for pid in $u; do printf '${STILL_BUSY} %s %s\\n' "$pid" "$(cat /proc/$pid/comm 2>/dev/null)"; done; exit 0`,
    `  fi`,
    `  sleep ${WAIT_POLL_S}`,
    `done`,
    `exit 0`,
  ].join('\n');
}

/** `bo-busy` lines of waitUnusedCommand's output: the processes that kept the snapshot busy. */
export function parseStillBusy(stdout: string): Array<{ pid: number; command: string }> {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith(`${STILL_BUSY} `))
    .map((l) => {
      const [, pid, ...rest] = l.split(' ');
      return { pid: Number(pid), command: rest.join(' ') };
    });
}

/** Runs `command`, retrying while its error output says busy; other failures fail at once. */
export function retryWhileBusy(command: string, tries = BUSY_TRIES, delayS = BUSY_DELAY_S): string {
  return [
    `i=0`,
    `while :; do`,
    `  e=$( { ${command}; } 2>&1 ) && exit 0`,
    `  i=$((i+1))`,
    `  case "$e" in *busy*|*"in use"*) if [ $i -lt ${tries} ]; then sleep ${delayS}; continue; fi ;; esac`,
    `  printf '%s\\n' "$e" >&2; exit 1`,
    `done`,
  ].join('\n');
}
