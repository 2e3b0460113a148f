import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdCompressSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { indexLine } from '../../../src/archive/tar-index.ts';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import { type CraftEntry, craftTar } from '../../fixtures/tar-craft.ts';

/**
 * Someone who can write to the bucket can plant any archive, index and manifest (age
 * recipients are public keys, so encryption does not stop them). Restore must refuse
 * escapes whatever the index claims.
 */
describe('restore of a planted malicious backup', () => {
  const work = mkdtempSync(join(tmpdir(), 'bo-evil-'));
  const repo = join(work, 'repo');
  const config = writeConfig({
    stateDir: join(work, 'state'),
    storage: { repo: { type: 'filesystem', path: repo } },
    jobs: { victim: { host: 'local', paths: ['/srv'], storage: 'repo' } },
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  function plant(id: string, entries: CraftEntry[]): void {
    const archive = zstdCompressSync(craftTar(entries));
    const index = zstdCompressSync(
      Buffer.from(
        entries
          .map((e) => {
            const data = Buffer.from(e.data ?? '');
            const type = (
              { File: 'file', Directory: 'dir', SymbolicLink: 'symlink', Link: 'hardlink' } as const
            )[(e.type ?? 'File') as 'File'];
            return `${indexLine({
              path: e.path.replace(/^\/+/, ''),
              type,
              size: type === 'file' ? data.length : 0,
              mode: 0o644,
              uid: 0,
              gid: 0,
              mtime: 1_000_000_000,
              ...(e.linkpath ? { linkpath: e.linkpath } : {}),
              ...(type === 'file' ? { sha256: createHash('sha256').update(data).digest('hex') } : {}),
            })}\n`;
          })
          .join(''),
      ),
    );
    const dir = join(repo, 'victim', id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'archive.tar.zst'), archive);
    writeFileSync(join(dir, 'index.jsonl.zst'), index);
    const obj = (key: string, b: Buffer) => ({
      key,
      size: b.length,
      sha256: createHash('sha256').update(b).digest('hex'),
    });
    writeFileSync(
      join(dir, 'manifest.json'),
      JSON.stringify({
        format: 'bo-backup',
        version: 1,
        id,
        job: 'victim',
        host: 'local',
        hostAddress: 'local',
        paths: ['/srv'],
        exclude: [],
        startedAt: '2026-01-01T00:00:00.000Z',
        finishedAt: '2026-01-01T00:00:01.000Z',
        tool: { name: 'bo', version: '0.1.0' },
        compression: 'zstd',
        encryption: null,
        archive: obj('archive.tar.zst', archive),
        index: obj('index.jsonl.zst', index),
        stats: { files: 1, dirs: 0, bytes: 1, tarBytes: 1 },
      }),
    );
  }

  const outside = join(work, 'outside');
  const cases: Array<[string, CraftEntry[]]> = [
    ['dot-dot path', [{ path: '../../outside/evil', data: 'pwned' }]],
    ['absolute path', [{ path: `${outside}/evil`, data: 'pwned' }]],
    [
      'write through a symlink',
      [
        { path: 'srv/link', type: 'SymbolicLink', linkpath: outside },
        { path: 'srv/link/evil', data: 'pwned' },
      ],
    ],
    [
      'hardlink to a file outside',
      [{ path: 'srv/hard', type: 'Link', linkpath: '../../../../../../etc/passwd' }],
    ],
  ];

  it.each(cases)(
    'refuses %s, exits non-zero, and writes nothing outside the target',
    async (_label, entries) => {
      rmSync(outside, { recursive: true, force: true });
      mkdirSync(outside);
      const id = `20260101T000000Z-${Math.random().toString(16).slice(2, 8)}`;
      plant(id, entries);
      const dest = join(work, `dest-${id}`);
      const r = await runBo(['--config', config, 'restore', `victim/${id}`, '--to', dest]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/restore FAILED/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(readdirSync(outside)).toEqual([]);
      expect(existsSync('/etc/passwd')).toBe(true);
    },
  );
});
