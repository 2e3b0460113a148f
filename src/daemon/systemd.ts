/**
 * sd_notify for `Type=notify`. Node cannot send unix datagrams, so this runs systemd's own
 * `systemd-notify`, which since systemd 246 waits until the manager has processed the message
 * (sd_notify_barrier): the helper exiting right away is no longer a race, and `NotifyAccess=all`
 * lets it speak for the service. Without $NOTIFY_SOCKET (not under systemd) it does nothing.
 */
import { execFile } from 'node:child_process';
import type { Logger } from '../log.ts';

export type Notify = (fields: {
  ready?: boolean;
  stopping?: boolean;
  status?: string;
  /**
   * With stopping: how long the stop may still take. systemd waits that long even past
   * TimeoutStopSec=, so a shutdownGrace above it is honoured instead of ending in SIGKILL.
   */
  extendTimeoutMs?: number;
}) => Promise<void>;

export function systemdNotifier(env: NodeJS.ProcessEnv, log: Logger): Notify {
  if (!env.NOTIFY_SOCKET) return async () => {};
  return (fields) => {
    const args: string[] = [];
    if (fields.ready) args.push('--ready');
    if (fields.status !== undefined) args.push(`--status=${fields.status}`);
    if (fields.stopping) args.push('STOPPING=1');
    if (fields.extendTimeoutMs !== undefined)
      args.push(`EXTEND_TIMEOUT_USEC=${Math.ceil(fields.extendTimeoutMs) * 1000}`);
    return new Promise((resolve) => {
      execFile('systemd-notify', args, { env, timeout: 10_000 }, (err, _stdout, stderr) => {
        if (err) log.warn({ err: err.message, stderr: stderr.trim(), args }, 'systemd-notify failed');
        resolve();
      });
    });
  };
}
