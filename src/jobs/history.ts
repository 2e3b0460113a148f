import { openStateDb, type StateDb } from '../catalog/db.ts';
import { currentOwner, finishRun, type RunOwner, recordRunStarted } from '../catalog/runs.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { RunHistory } from './run-recorded.ts';

/**
 * The run history in the state database, the same for the daemon and the CLI, so `bo status`
 * and the daemon's catch-up see every run. A crash mid-run leaves the row unfinished; once its
 * owner (this process) is gone it counts as abandoned.
 */
export function stateDbHistory(db: StateDb, owner: RunOwner = currentOwner()): RunHistory {
  return {
    started: (r) => recordRunStarted(db, r, owner),
    finished: (id, end) => finishRun(db, id, end),
  };
}

/** The run history, when this user can write the state database; otherwise runs go unrecorded. */
export function openHistory(stateDir: string, log: Logger): (RunHistory & { close(): void }) | undefined {
  try {
    const db = openStateDb(stateDir);
    return { ...stateDbHistory(db), close: () => db.close() };
  } catch (err) {
    log.warn(
      { stateDir, err: errorMessage(err) },
      'Run history not recorded: cannot open the state database',
    );
    return undefined;
  }
}
