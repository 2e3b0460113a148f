import { describe, expect, it } from 'vitest';
import {
  backupFolder,
  backupIdPrefix,
  CATALOG_ROOT,
  catalogKey,
  folderOf,
  jobLockScope,
  jobPrefix,
  LOCK_ROOT,
  lockEpochKey,
  lockScopeFolder,
  manifestKey,
  objectKey,
  parseBackupKey,
  parseCatalogKey,
  parseLockEpochKey,
  parseManifestKey,
} from '../../../src/storage/layout.ts';

// The keys below are a stored format: repositories written by earlier versions hold exactly
// these, so every string is spelled out here rather than built with the functions under test.
const ID = '20261122T081500Z-3f9a2c';

describe('storage layout', () => {
  it('puts a backup in <job>/<id>/ with its manifest and objects by name', () => {
    expect(jobPrefix('files1')).toBe('files1/');
    expect(backupIdPrefix('files1', '20261122')).toBe('files1/20261122');
    expect(backupFolder('files1', ID)).toBe(`files1/${ID}/`);
    expect(manifestKey('files1', ID)).toBe(`files1/${ID}/manifest.json`);
    expect(objectKey({ job: 'files1', id: ID }, 'archive.tar.zst.age')).toBe(
      `files1/${ID}/archive.tar.zst.age`,
    );
    expect(folderOf(`files1/${ID}/index.jsonl.zst`)).toBe(`files1/${ID}/`);
  });

  it('parses listed backup keys back into job, id and name, and nothing else', () => {
    expect(parseBackupKey(`files1/${ID}/dump-db.sql.zst`)).toEqual({
      job: 'files1',
      id: ID,
      name: 'dump-db.sql.zst',
    });
    expect(parseManifestKey(`files1/${ID}/manifest.json`)).toEqual({ job: 'files1', id: ID });
    expect(parseManifestKey(`files1/${ID}/archive.tar.zst`)).toBeUndefined();
    for (const key of ['files1/manifest.json', `files1/${ID}/x/manifest.json`, `/${ID}/manifest.json`])
      expect(parseBackupKey(key) && parseManifestKey(key), key).toBeUndefined();
    expect(parseManifestKey(manifestKey('a.b-c_d', ID))).toEqual({ job: 'a.b-c_d', id: ID });
  });

  it('keeps catalogs under _bo/catalog/<job>.json.zst', () => {
    expect(CATALOG_ROOT).toBe('_bo/catalog/');
    expect(catalogKey('files1')).toBe('_bo/catalog/files1.json.zst');
    expect(parseCatalogKey('_bo/catalog/files1.json.zst')).toBe('files1');
    expect(parseCatalogKey('_bo/catalog/a.json.zst.json.zst')).toBe('a.json.zst');
    for (const key of [
      '_bo/catalog/.json.zst',
      '_bo/catalog/x/y.json.zst',
      '_bo/catalog/x.json',
      'x.json.zst',
    ])
      expect(parseCatalogKey(key), key).toBeUndefined();
  });

  it('keeps lock epochs under _bo/locks/<scope>/<12-digit epoch>.json', () => {
    expect(LOCK_ROOT).toBe('_bo/locks/');
    expect(jobLockScope('files1')).toBe('job/files1');
    expect(lockScopeFolder('job/files1')).toBe('_bo/locks/job/files1/');
    expect(lockEpochKey('job/files1', 7)).toBe('_bo/locks/job/files1/000000000007.json');
    expect(parseLockEpochKey('_bo/locks/job/files1/000000000007.json')).toEqual({
      scope: 'job/files1',
      epoch: 7,
    });
    expect(parseLockEpochKey('_bo/locks/job/files1/7.json')).toBeUndefined();
    expect(parseLockEpochKey('job/files1/000000000007.json')).toBeUndefined();
  });
});
