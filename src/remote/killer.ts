import type { Client } from 'ssh2';
import type { Logger } from '../log.ts';
import { killGroupCommand } from './pgid.ts';

/** Kills remote process groups over extra channels of a connection (see pgid.ts for why). */
export interface Killer {
  kill(pgid: number): void;
  /** Resolves once every requested kill has been sent and its channel closed. */
  settled(): Promise<void>;
}

/**
 * Batches kills: every group aborted in the same tick goes into one `kill` command, and only one
 * kill channel is open at a time, so aborting many commands never exceeds the server's MaxSessions.
 */
export function createKiller(client: Client, sudo: boolean, log: Logger): Killer {
  let pending: number[] = [];
  let busy = false;
  let waiters: Array<() => void> = [];
  const flush = () => {
    if (busy) return;
    if (pending.length === 0) {
      const w = waiters;
      waiters = [];
      for (const resolve of w) resolve();
      return;
    }
    const groups = pending;
    pending = [];
    busy = true;
    const next = () => {
      busy = false;
      flush();
    };
    const command = groups.map((g) => killGroupCommand(g, sudo)).join('; ');
    try {
      client.exec(command, (err, ch) => {
        if (err) {
          log.warn({ groups, err: err.message }, 'Could not kill remote commands');
          return next();
        }
        ch.on('close', next);
        ch.resume();
        ch.stderr.resume();
        ch.end();
      });
    } catch (err) {
      log.warn({ groups, err: (err as Error).message }, 'Could not kill remote commands');
      next();
    }
  };
  return {
    kill(pgid) {
      pending.push(pgid);
      queueMicrotask(flush);
    },
    settled() {
      return new Promise((resolve) => {
        waiters.push(resolve);
        queueMicrotask(flush);
      });
    },
  };
}
