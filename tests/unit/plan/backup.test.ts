import { describe, expect, it } from 'vitest';
import { newBackupId } from '../../../src/catalog/manifest.ts';
import { parseResolved } from '../../../src/config/resolve-secrets.ts';
import { BackupJob } from '../../../src/config/schema.ts';
import { planBackup } from '../../../src/plan/backup.ts';

const job = (extra: object = {}) =>
  parseResolved(BackupJob, { kind: 'backup', host: 'files1', paths: ['/srv'], storage: 's', ...extra });

describe('planBackup', () => {
  it('names objects after compression and encryption', () => {
    const p = planBackup(job(), 'files1-share', 'ID', { zstd: true, gzip: true, split: true });
    expect(p).toMatchObject({
      job: 'files1-share',
      id: 'ID',
      archiveName: 'archive.tar.zst',
      indexName: 'index.jsonl.zst',
    });
    const enc = planBackup(
      job({
        compression: 'gzip',
        encryption: { recipients: ['age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p'] },
      }),
      'j',
      'ID',
      { zstd: false, gzip: true, split: true },
    );
    expect(enc).toMatchObject({
      archiveName: 'archive.tar.gz.age',
      indexName: 'index.jsonl.zst.age',
      encrypted: true,
    });
  });

  it('compresses on the server only when the server has the compressor', () => {
    expect(planBackup(job(), 'j', 'I', { zstd: true, gzip: true, split: true }).compressRemotely).toBe(true);
    expect(planBackup(job(), 'j', 'I', { zstd: false, gzip: true, split: true }).compressRemotely).toBe(
      false,
    );
    expect(
      planBackup(job({ compression: 'none' }), 'j', 'I', { zstd: true, gzip: true, split: true })
        .compressRemotely,
    ).toBe(false);
  });
});

describe('newBackupId', () => {
  it('sorts by time', () => {
    const a = newBackupId(new Date('2026-01-02T03:04:05.678Z'), () => 'aaaaaa');
    expect(a).toBe('20260102T030405Z-aaaaaa');
    expect(newBackupId(new Date('2026-01-02T03:04:06Z'), () => '000000') > a).toBe(true);
  });
});
