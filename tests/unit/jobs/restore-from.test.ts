import { describe, expect, it } from 'vitest';
import { BoError, IntegrityError, NotFoundError, StorageError, UsageError } from '../../../src/errors.ts';
import { storageFault } from '../../../src/jobs/restore-from.ts';

describe('storageFault: may a copy elsewhere help?', () => {
  it('yes when the root cause is the storage or an object in it', () => {
    const unreachable = new BoError('cannot search storage fast', { cause: new StorageError('no bucket') });
    expect(storageFault(unreachable)).toBe(true);
    const corrupted = new IntegrityError('restore FAILED: …', { cause: new IntegrityError('is corrupted') });
    expect(storageFault(corrupted)).toBe(true);
    expect(storageFault(new NotFoundError('gone'))).toBe(true);
  });
  it('no for a wrong identity, a usage error or anything else', () => {
    const identity = new IntegrityError('restore FAILED: …', {
      cause: new BoError('none of the given identities'),
    });
    expect(storageFault(identity)).toBe(false);
    expect(storageFault(new UsageError('target not empty'))).toBe(false);
    expect(storageFault(new Error('bug'))).toBe(false);
  });
});
