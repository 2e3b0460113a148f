/**
 * `bo find` and `bo diff` through the real `bo`, across an encrypted incremental chain, from the
 * indexes alone: on the machine that made the backups and on a fresh one whose config names only
 * the storage (no job, no state), with the identity.
 */
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../../src/archive/age/index.ts';
import { runBo, writeConfig } from '../../fixtures/bo.ts';

describe('bo find and bo diff across an incremental chain', () => {
  const work = mkdtempSync(join(tmpdir(), 'bo-find-'));
  const src = join(work, 'srv/mail/alice/cur');
  const key = generateIdentity();
  const identity = join(work, 'key.txt');
  const repo = { type: 'filesystem', path: join(work, 'repo') };
  const config = writeConfig(
    {
      stateDir: join(work, 'state'),
      storage: { repo },
      jobs: {
        mail: {
          host: 'local',
          paths: [join(work, 'srv')],
          storage: 'repo',
          encryption: { recipients: [key.recipient] },
        },
      },
    },
    mkdtempSync(join(work, 'cfg-')),
  );
  // A fresh machine: only the storage, another state directory.
  const fresh = writeConfig(
    { stateDir: join(work, 'state2'), storage: { repo } },
    mkdtempSync(join(work, 'cfg-')),
  );
  const ids: string[] = [];

  beforeAll(async () => {
    writeFileSync(identity, `${key.identity}\n`);
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, '1.eml'), 'one');
    writeFileSync(join(src, '2.eml'), 'two');
    writeFileSync(join(src, '3.eml'), 'three');
    const steps = [
      () => {},
      () => {
        writeFileSync(join(src, '2.eml'), 'two, edited');
        unlinkSync(join(src, '3.eml'));
        writeFileSync(join(src, '4.eml'), 'four');
      },
      () => writeFileSync(join(src, '5.eml'), 'five'),
    ];
    for (const step of steps) {
      step();
      const r = await runBo(['--config', config, 'backup', 'now', 'mail', '--json']);
      expect(r.code, r.stderr).toBe(0);
      ids.push(
        (JSON.parse(r.stdout) as { jobs: Array<{ result: { backupId: string } }> }).jobs[0]!.result.backupId,
      );
    }
  }, 60_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  for (const [where, cfg] of [
    ['the machine that made them', config],
    ['a fresh machine with only the storage', fresh],
  ] as const) {
    it(`bo find says which backups hold a path and when its content changed (${where})`, async () => {
      const r = await runBo(['--config', cfg, 'find', `${src}/*.eml`, '--json', '-i', identity]);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as {
        backups: number;
        paths: Array<{ path: string; versions: Array<{ backup: string; event: string; sha256?: string }> }>;
      };
      expect(out.backups).toBe(3);
      const events = Object.fromEntries(
        out.paths.map((p) => [p.path.slice(src.length + 1), p.versions.map((v) => `${v.backup}:${v.event}`)]),
      );
      expect(events).toEqual({
        '1.eml': [`${ids[0]}:new`, `${ids[1]}:same`, `${ids[2]}:same`],
        '2.eml': [`${ids[0]}:new`, `${ids[1]}:changed`, `${ids[2]}:same`],
        '3.eml': [`${ids[0]}:new`, `${ids[1]}:gone`, `${ids[2]}:gone`],
        '4.eml': [`${ids[1]}:new`, `${ids[2]}:same`],
        '5.eml': [`${ids[2]}:new`],
      });
      const text = await runBo(['--config', cfg, 'find', '/srv/mail/alice', '--job', 'mail', '-i', identity]);
      expect(text.code, text.stderr).toBe(0); // anchored at /, so nothing: the tree is under the work dir
      expect(text.stdout).toMatch(/^no path matches/);
      const dir = await runBo(['--config', cfg, 'find', 'alice/cur', '--since', '1d', '-i', identity]);
      expect(dir.stdout).toContain(`${src}/2.eml`);
      expect(dir.stdout).toMatch(new RegExp(`${ids[1]}  changed`));
    });

    it(`bo diff lists what was added, removed and modified, by hash (${where})`, async () => {
      const r = await runBo([
        '--config',
        cfg,
        'diff',
        `mail/${ids[0]}`,
        `mail/${ids[2]}`,
        '--json',
        '-i',
        identity,
      ]);
      expect(r.code, r.stderr).toBe(0);
      const d = JSON.parse(r.stdout) as {
        added: Array<{ path: string }>;
        removed: Array<{ path: string }>;
        modified: Array<{ path: string; changes: string[] }>;
      };
      const rel = (p: string) => `/${p}`.slice(src.length + 1);
      expect(d.added.map((e) => rel(e.path))).toEqual(['4.eml', '5.eml']);
      expect(d.removed.map((e) => rel(e.path))).toEqual(['3.eml']);
      expect(d.modified.filter((m) => m.changes.includes('content')).map((m) => rel(m.path))).toEqual([
        '2.eml',
      ]);
      const text = await runBo(['--config', cfg, 'diff', `mail/${ids[1]}`, `mail/${ids[2]}`, '-i', identity]);
      expect(text.stdout).toContain(`+ ${src}/5.eml`);
      expect(text.stdout).toMatch(/1 added, 0 removed, \d+ modified/);
    });
  }

  it('says an encrypted backup needs the identity', async () => {
    const r = await runBo(['--config', fresh, 'diff', `mail/${ids[0]}`, `mail/${ids[1]}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--identity/);
  });
});
