import { createHash } from 'node:crypto';
import { buffer, text } from 'node:stream/consumers';
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity, parseIdentities } from '../../../src/archive/age/index.ts';
import { lastVerified } from '../../../src/catalog/checks.ts';
import { openStateDb } from '../../../src/catalog/db.ts';
import type { Manifest } from '../../../src/catalog/manifest.ts';
import type { VerifyOutcome } from '../../../src/jobs/verify.ts';
import { verifyBackups } from '../../../src/jobs/verify-run.ts';
import { silentLogger } from '../../../src/log.ts';
import { s3Missing } from '../../fixtures/buckets.ts';
import { type BackupEnv, backupEnv } from './backup-env.ts';

const skipS3 = s3Missing();
const key = generateIdentity();
const identities = parseIdentities(key.identity);

describe.each([
  ['filesystem', 'fs' as const, false],
  ['S3 (moto)', 's3' as const, Boolean(skipS3)],
])('verify on %s storage', (_label, kind, skip) => {
  let env: BackupEnv;
  beforeAll(async () => {
    if (skip) return;
    env = await backupEnv(kind, {
      jobs: { plain: {}, secret: { encryption: { recipients: [key.recipient] } } },
    });
  });
  afterAll(async () => {
    await env?.cleanup();
  });

  const verify = async (what: string, ids = identities): Promise<VerifyOutcome> => {
    const out = await verifyBackups(env.services, what, undefined, {
      identities: ids,
      signal: new AbortController().signal,
      log: silentLogger(),
    });
    expect(out).toHaveLength(1);
    return out[0]!;
  };
  const manifestOf = async (job: string, id: string) =>
    JSON.parse(await text(await env.storage.get(`${job}/${id}/manifest.json`))) as Manifest;
  const rewrite = async (k: string, change: (b: Buffer) => Buffer) => {
    const data = await buffer(await env.storage.get(k));
    await env.storage.put(k, change(Buffer.from(data)));
  };

  it.skipIf(skip)('passes good backups at full depth, and records them', async () => {
    const plain = await env.backup('plain');
    const secret = await env.backup('secret');
    const a = await verify(`plain/${plain}`);
    expect(a).toMatchObject({ status: 'ok', depth: 'full', problems: [] });
    expect(a.entries).toBeGreaterThanOrEqual(4);
    expect(await verify(`secret/${secret}`)).toMatchObject({ status: 'ok', depth: 'full' });
    const db = openStateDb(env.config.stateDir);
    try {
      expect([...lastVerified(db, 'repo', 'plain').keys()]).toEqual([plain]);
    } finally {
      db.close();
    }
  });

  it.skipIf(skip)('checks only ciphertext hashes without the identity, and says so', async () => {
    const secret = await env.backup('secret');
    expect(await verify(`secret/${secret}`, [])).toMatchObject({ status: 'ok', depth: 'ciphertext' });
    const m = await manifestOf('secret', secret);
    await rewrite(`secret/${secret}/${m.archive.key}`, flipByte);
    const bad = await verify(`secret/${secret}`, []);
    expect(bad).toMatchObject({ status: 'failed', depth: 'ciphertext' });
    expect(bad.problems.join('\n')).toMatch(/is corrupted: SHA-256 .* does not match the manifest/);
  });

  it.skipIf(skip)('catches a flipped byte in the archive', async () => {
    const id = await env.backup('plain');
    const m = await manifestOf('plain', id);
    await rewrite(`plain/${id}/${m.archive.key}`, flipByte);
    const o = await verify(`plain/${id}`);
    expect(o.status).toBe('failed');
    expect(o.problems.join('\n')).toMatch(new RegExp(`plain/${id}/${m.archive.key} is corrupted`));
  });

  it.skipIf(skip)('catches a truncated object', async () => {
    const id = await env.backup('secret');
    const m = await manifestOf('secret', id);
    await rewrite(`secret/${id}/${m.archive.key}`, (b) => b.subarray(0, b.length - 100));
    const o = await verify(`secret/${id}`);
    expect(o.status).toBe('failed');
    expect(o.problems.join('\n')).toMatch(/is truncated: read \d+ bytes, manifest says \d+/);
  });

  it.skipIf(skip)('catches an index that lacks an entry the archive has (object hashes intact)', async () => {
    const id = await env.backup('plain');
    const m = await manifestOf('plain', id);
    const indexKey = `plain/${id}/${m.index.key}`;
    const lines = zstdDecompressSync(await buffer(await env.storage.get(indexKey)))
      .toString()
      .split('\n');
    const victim = lines.findIndex((l) => l.includes('"c.txt') || l.includes('/c.txt"'));
    expect(victim).toBeGreaterThanOrEqual(0);
    const index = zstdCompressSync(Buffer.from(lines.filter((_, i) => i !== victim).join('\n')));
    await env.storage.put(indexKey, index);
    // Re-seal the manifest so only the content comparison can notice.
    m.index = { ...m.index, size: index.length, sha256: createHash('sha256').update(index).digest('hex') };
    await env.storage.put(`plain/${id}/manifest.json`, Buffer.from(JSON.stringify(m)));
    const o = await verify(`plain/${id}`);
    expect(o.status).toBe('failed');
    expect(o.problems).toEqual([expect.stringMatching(/\/c\.txt: in the archive but not in the index$/)]);
  });

  it.skipIf(skip)('verifies every backup of a job, or a sample with the newest always in it', async () => {
    const all = await verifyBackups(env.services, 'plain', undefined, {
      identities,
      signal: new AbortController().signal,
      log: silentLogger(),
    });
    expect(all.map((o) => o.status)).toEqual(['ok', 'failed', 'failed']); // corrupted above: flipped byte, index
    const newest = all.at(-1)!.id;
    const sample = await verifyBackups(env.services, 'plain', undefined, {
      identities,
      sample: 0.1,
      signal: new AbortController().signal,
      log: silentLogger(),
    });
    expect(sample.map((o) => o.id)).toEqual([newest]);
  });
});

function flipByte(b: Buffer): Buffer {
  const i = Math.floor(b.length / 2);
  b[i] = b[i]! ^ 0x40;
  return b;
}
