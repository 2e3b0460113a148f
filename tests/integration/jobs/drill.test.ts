import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer, text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity, parseIdentities } from '../../../src/archive/age/index.ts';
import { lastCheck, lastProvenRestorable } from '../../../src/catalog/checks.ts';
import { openStateDb } from '../../../src/catalog/db.ts';
import type { Manifest } from '../../../src/catalog/manifest.ts';
import { drillJobs } from '../../../src/jobs/drill-run.ts';
import { silentLogger } from '../../../src/log.ts';
import { type BackupEnv, backupEnv } from './backup-env.ts';

const key = generateIdentity();
const identities = parseIdentities(key.identity);

describe('restore drill (local host, filesystem storage)', () => {
  let env: BackupEnv;
  let scratch: string;
  beforeAll(async () => {
    env = await backupEnv('fs', {
      jobs: { files: {}, secret: { encryption: { recipients: [key.recipient] } } },
    });
    scratch = await mkdtemp(join(tmpdir(), 'bo-drill-parent-'));
  });
  afterAll(async () => {
    await env?.cleanup();
    await rm(scratch, { recursive: true, force: true });
  });
  const drill = (job: string, extra: Partial<Parameters<typeof drillJobs>[2]> = {}) =>
    drillJobs(env.services, [job], {
      to: scratch,
      identities,
      signal: new AbortController().signal,
      log: silentLogger(),
      ...extra,
    });
  const db = <T>(fn: (d: ReturnType<typeof openStateDb>) => T): T => {
    const d = openStateDb(env.config.stateDir);
    try {
      return fn(d);
    } finally {
      d.close();
    }
  };

  it('restores the latest backup, proves every file, removes the scratch copy and records it', async () => {
    const id = await env.backup('files');
    const [o] = await drill('files');
    expect(o).toMatchObject({ id, status: 'ok', problems: [], removed: true, sampled: false });
    expect(o!.files).toBe(3); // a.txt, sub/b.bin, sub/c.txt
    expect(o!.target).toMatch(new RegExp(`^${scratch}/bo-drill-files-`));
    expect(await readdir(scratch)).toEqual([]);
    const proven = db((d) => lastProvenRestorable(d, 'files'));
    expect(proven).toMatchObject({ kind: 'drill', backupId: id, outcome: 'ok', depth: 'all', files: 3 });
    expect(proven!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('restores a sample of files, and an encrypted backup with its identity', async () => {
    const [s] = await drill('files', { sample: 0.3 });
    expect(s).toMatchObject({ status: 'ok', sampled: true, files: 1 });
    await env.backup('secret');
    const [e] = await drill('secret');
    expect(e).toMatchObject({ status: 'ok', files: 3 });
    const [none] = await drill('secret', { identities: undefined });
    expect(none!.status).toBe('failed');
    expect(none!.problems[0]).toMatch(/is encrypted; pass --identity/);
  });

  it('restores onto a host with its own tar and checks the files there', async () => {
    const [o] = await drill('files', { to: undefined, toHost: `local:${scratch}` });
    expect(o).toMatchObject({ status: 'ok', files: 3, removed: true });
    expect(o!.target).toMatch(new RegExp(`^local:${scratch}/bo-drill-files-`));
    expect(await readdir(scratch)).toEqual([]);
  });

  it('fails loudly on a corrupted backup, cleans up, and keeps the last proof', async () => {
    const good = db((d) => lastProvenRestorable(d, 'files'))!;
    const id = await env.backup('files');
    const m = JSON.parse(await text(await env.storage.get(`files/${id}/manifest.json`))) as Manifest;
    const archiveKey = `files/${id}/${m.archive.key}`;
    const data = Buffer.from(await buffer(await env.storage.get(archiveKey)));
    data[data.length >> 1]! ^= 0xff;
    await env.storage.put(archiveKey, data);

    const [o] = await drill('files');
    expect(o).toMatchObject({ id, status: 'failed', removed: true });
    expect(o!.problems.join('\n')).toMatch(/restore FAILED: .*(corrupted|does not match)/);
    expect(await readdir(scratch)).toEqual([]);
    expect(db((d) => lastCheck(d, 'drill', 'files'))).toMatchObject({ backupId: id, outcome: 'failed' });
    expect(db((d) => lastProvenRestorable(d, 'files'))!.backupId).toBe(good.backupId);
  });
});
