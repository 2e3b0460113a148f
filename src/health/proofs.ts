import { lastCheck, lastProvenRestorable, lastVerified } from '../catalog/checks.ts';
import type { StateDb } from '../catalog/db.ts';

/** The newest verify or restore drill of a job, from the state database (bo verify / bo drill). */
export interface Proof {
  /** When the newest attempt finished, and whether it passed. */
  lastAt: string;
  lastOk: boolean;
  /** When the newest successful one finished. */
  okAt?: string;
  detail?: string;
}

export interface Proofs {
  verify?: Proof;
  drill?: Proof;
}

export type ProofReader = (job: string, storage: string) => Proofs;

/** Reads verify and drill records; a state database without them (or unreadable) gives nothing. */
export function proofReader(db: StateDb): ProofReader {
  return (job, storage) => {
    const out: Proofs = {};
    try {
      const verify = lastCheck(db, 'verify', job);
      if (verify) {
        const okTimes = [...lastVerified(db, storage, job).values()].sort();
        out.verify = proof(verify.finishedAt, verify.outcome === 'ok', okTimes.at(-1), verify.detail);
      }
      const drill = lastCheck(db, 'drill', job);
      if (drill)
        out.drill = proof(
          drill.finishedAt,
          drill.outcome === 'ok',
          lastProvenRestorable(db, job)?.finishedAt,
          drill.detail,
        );
    } catch {
      // The verify/drill tables are optional for health: no records, no proof.
    }
    return out;
  };
}

function proof(lastAt: string, lastOk: boolean, okAt: string | undefined, detail: string | undefined): Proof {
  return { lastAt, lastOk, ...(okAt ? { okAt } : {}), ...(detail ? { detail } : {}) };
}
