/**
 * Low CPU and I/O priority for a command on a server (hosts.*.limits.nice): the shell lowers its
 * own priority first, so the tar and compressor it starts inherit it. Each tool is used only
 * where the server has it, and a refusal (a container without ionice support) is ignored: the
 * backup runs either way. Pure.
 *
 * nice 19 is the lowest CPU priority; ionice class 2 level 7 the lowest best-effort I/O priority
 * (class 3, idle, could starve the backup for as long as the disks stay busy).
 */
export const LOW_PRIORITY_PREFIX =
  'command -v renice >/dev/null 2>&1 && renice -n 19 -p $$ >/dev/null 2>&1; ' +
  'command -v ionice >/dev/null 2>&1 && ionice -c 2 -n 7 -p $$ >/dev/null 2>&1; ';

export function withLowPriority(command: string, low: boolean): string {
  return low ? `${LOW_PRIORITY_PREFIX}${command}` : command;
}
