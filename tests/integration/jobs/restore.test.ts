import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdCompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveBackup } from '../../../src/catalog/resolve.ts';
import { systemClock } from '../../../src/clock.ts';
import { parseResolved } from '../../../src/config/resolve-secrets.ts';
import { Config } from '../../../src/config/schema.ts';
import { type RestoreProgress, type RestoreTarget, restoreBackup } from '../../../src/jobs/restore.ts';
import { silentLogger } from '../../../src/log.ts';
import { createServices, type Services } from '../../../src/services.ts';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import { plantBackup, plantedId } from '../../fixtures/plant.ts';
import { type SshdFixture, startSshd } from '../../fixtures/sshd.ts';
import { type CraftEntry, craftTar } from '../../fixtures/tar-craft.ts';

/**
 * Restore through the real `bo` executable and the restore job, locally and onto a real sshd
 * (`--to-host`, the server's own GNU tar), from real backups of a local tree and from planted
 * ones in filesystem storage.
 */
describe('restore', () => {
  const work = mkdtempSync(join(tmpdir(), 'bo-restore-'));
  const repo = join(work, 'repo');
  const src = join(work, 'src');
  const member = src.slice(1); // archive member of src
  let sshd: SshdFixture | undefined;
  let config: string;
  let services: Services;
  const log = silentLogger();
  const bo = (args: string[]) => runBo(['--config', config, ...args]);

  beforeAll(async () => {
    sshd = await startSshd();
    mkdirSync(join(src, 'tmp/x'), { recursive: true });
    writeFileSync(join(src, 'tmp/x/f.txt'), 'inside\n');
    mkdirSync(join(src, 'hard'));
    writeFileSync(join(src, 'hard/one'), 'shared content\n');
    linkSync(join(src, 'hard/one'), join(src, 'hard/two'));
    writeFileSync(join(src, 'big.bin'), randomBytes(6 * 1024 * 1024));
    const raw = {
      stateDir: join(work, 'state'),
      storage: { repo: { type: 'filesystem', path: repo } },
      ...(sshd ? { hosts: { files1: sshd.hostConfig() } } : {}),
      jobs: {
        tree: { host: 'local', paths: [src], storage: 'repo' },
        planted: { host: 'local', paths: ['/srv'], storage: 'repo' },
      },
    };
    config = writeConfig(raw);
    services = createServices({ config: parseResolved(Config, raw), log, clock: systemClock });
    const r = await bo(['backup', 'now', 'tree']);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(async () => {
    await services?.close();
    await sshd?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const fresh = (name: string) => {
    const d = join(work, name);
    mkdirSync(d);
    return d;
  };
  const onHost = (dir: string): RestoreTarget => ({ kind: 'host', host: services.host('files1'), dir });

  it('--to-host --force refuses a symlink already in the target and writes nothing outside it', async (ctx) => {
    if (!sshd) return ctx.skip();
    const outside = fresh('outside');
    for (const path of [[], ['--path', join(src, 'tmp/x')]]) {
      const dest = fresh(`dest-link-${path.length}`);
      // The first member directory, as a symlink pointing out of the target (/tmp → …).
      symlinkSync(outside, join(dest, member.split('/')[0]!));
      const r = await bo(['restore', 'tree', '--to-host', `files1:${dest}`, '--force', ...path]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/refusing to restore into files1:.*\/tmp is a symlink/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(readdirSync(outside)).toEqual([]);
    }
    // Deeper down, too: DIR/<src>/tmp -> outside.
    const dest = fresh('dest-deep');
    mkdirSync(join(dest, src), { recursive: true });
    symlinkSync(outside, join(dest, src, 'tmp'));
    const r = await bo(['restore', 'tree', '--to-host', `files1:${dest}`, '--force']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${src}/tmp is a symlink`);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('--to-host refuses an archive entry the index does not list', async (ctx) => {
    if (!sshd) return ctx.skip();
    const id = plantedId();
    const entries: CraftEntry[] = [
      { path: 'srv/', type: 'Directory' },
      { path: 'srv/listed', data: 'ok' },
      { path: 'srv/unlisted/evil', data: 'not in the index' },
    ];
    plantBackup(repo, 'planted', id, entries, { index: (ix) => ix.slice(0, 2) });
    const dest = fresh('dest-unlisted');
    const r = await bo(['restore', `planted/${id}`, '--to-host', `files1:${dest}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/srv\/unlisted\/evil \(file\) is not in the index/);
    expect(existsSync(join(dest, 'srv/unlisted'))).toBe(false);
  });

  it('restores one name of a hardlink pair, locally and onto a server', async (ctx) => {
    const ls = await bo(['ls', 'tree', join(src, 'hard'), '--json']);
    const link = ls.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { path: string; type: string; linkpath?: string })
      .find((e) => e.type === 'hardlink')!;
    const targets: Array<[string, string[]]> = [['local', ['--to', join(work, 'hard-local')]]];
    if (sshd) targets.push(['remote', ['--to-host', `files1:${fresh('hard-remote')}`]]);
    else ctx.skip();
    for (const [, to] of targets) {
      const r = await bo(['restore', 'tree', '--path', `/${link.path}`, ...to]);
      expect(r.stderr).toContain(`note: also restored /${link.linkpath}: a selected hardlink points to it`);
      expect(r.code).toBe(0);
      const dest = to[1]!.replace(/^files1:/, '');
      const a = statSync(join(dest, link.path));
      expect(readFileSync(join(dest, link.path), 'utf8')).toBe('shared content\n');
      expect(statSync(join(dest, link.linkpath!)).ino).toBe(a.ino);
    }
  });

  it('recreates device nodes as root, applies xattrs and text-only ACLs, and warns about the rest', async () => {
    const id = plantedId();
    plantBackup(repo, 'planted', id, [
      { path: 'srv/', type: 'Directory' },
      { path: 'srv/null', type: 'CharacterDevice', devmajor: 1, devminor: 3, mode: 0o666 },
      { path: 'srv/tagged', data: 'x', pax: { 'SCHILY.xattr.user.colour': 'blue' } },
      // GNU tar --acls without --xattrs-include: the ACL as text only, set with setfacl.
      {
        path: 'srv/shared',
        data: 'y',
        mode: 0o640,
        pax: { 'SCHILY.acl.access': 'user::rw-\nuser:1234:rw-\ngroup::r--\nmask::rw-\nother::---\n' },
      },
    ]);
    const dest = join(work, 'dev-local');
    const r = await bo(['restore', `planted/${id}`, '--to', dest, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { warnings: string[] };
    expect(
      execFileSync('getfattr', ['-n', 'user.colour', '--only-values', join(dest, 'srv/tagged')]).toString(),
    ).toBe('blue');
    expect(execFileSync('getfacl', ['-n', '-c', join(dest, 'srv/shared')]).toString()).toContain(
      'user:1234:rw-',
    );
    if (process.getuid?.() === 0) {
      const st = lstatSync(join(dest, 'srv/null'));
      expect(st.isCharacterDevice()).toBe(true);
      expect(st.rdev).toBe(statSync('/dev/null').rdev);
      expect(st.mode & 0o7777).toBe(0o666);
      expect(out.warnings).toEqual([]);
    } else {
      expect(out.warnings).toContainEqual(expect.stringMatching(/\/srv\/null: char device 1,3 not restored/));
    }
  });

  it('a failed restore leaves no partly written file under a real name', async () => {
    const big = randomBytes(3 * 1024 * 1024);
    const entries: CraftEntry[] = [
      { path: 'srv/', type: 'Directory' },
      { path: 'srv/good', data: 'verified\n' },
      { path: 'srv/bad', data: big },
    ];
    const tamper = (id: string) =>
      plantBackup(repo, 'planted', id, entries, {
        index: (ix) => ix.map((e) => (e.path === 'srv/bad' ? { ...e, sha256: '0'.repeat(64) } : e)),
      });
    const truncate = (id: string) =>
      plantBackup(repo, 'planted', id, entries, {
        archive: zstdCompressSync(craftTar(entries).subarray(0, 2048 + 1024 * 1024)),
      });
    for (const [how, plant] of [
      ['checksum', tamper],
      ['truncated', truncate],
    ] as const) {
      const id = plantedId();
      plant(id);
      const dest = join(work, `partial-${how}`);
      const r = await bo(['restore', `planted/${id}`, '--to', dest]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(how === 'checksum' ? /content of srv\/bad does not match/ : /truncated/);
      expect(readdirSync(join(dest, 'srv')).sort()).toEqual(['good']);
      expect(readFileSync(join(dest, 'srv/good'), 'utf8')).toBe('verified\n');
    }
  });

  it('reports progress per regular file and per byte, ending at the totals', async (ctx) => {
    const { storage, ref } = await resolveBackup(services, 'tree', undefined);
    const targets: RestoreTarget[] = [{ kind: 'local', dir: join(work, 'progress-local') }];
    if (sshd) targets.push(onHost(fresh('progress-remote')));
    else ctx.skip();
    for (const target of targets) {
      const seen: RestoreProgress[] = [];
      const result = await restoreBackup({
        storage,
        ref,
        target,
        signal: new AbortController().signal,
        log,
        onProgress: (p) => seen.push({ ...p }),
      });
      const last = seen[seen.length - 1]!;
      expect(last).toEqual({
        files: result.files,
        bytes: result.bytes,
        totalFiles: result.files,
        totalBytes: result.bytes,
      });
      expect(result.files).toBe(3); // tmp/x/f.txt, hard/one (hard/two is a link), big.bin
      expect(seen.every((p) => p.files <= p.totalFiles && p.bytes <= p.totalBytes)).toBe(true);
      // Bytes move while the 6 MiB file streams, before it is complete.
      expect(seen.some((p) => p.bytes > 1024 * 1024 && p.bytes < 6 * 1024 * 1024)).toBe(true);
      for (let i = 1; i < seen.length; i++) expect(seen[i]!.bytes).toBeGreaterThanOrEqual(seen[i - 1]!.bytes);
    }
  });

  it('runs GNU tar as the reference for the symlink behaviour being guarded against', () => {
    // If this ever fails, GNU tar stopped following intermediate symlinks and the check could go.
    const d = mkdtempSync(join(work, 'gnu-'));
    mkdirSync(join(d, 'src/tmp/x'), { recursive: true });
    writeFileSync(join(d, 'src/tmp/x/f'), 'hi');
    mkdirSync(join(d, 'dest'));
    mkdirSync(join(d, 'out'));
    symlinkSync(join(d, 'out'), join(d, 'dest/tmp'));
    execFileSync('sh', ['-c', `tar -C "$1/src" -cf - tmp/x | tar -C "$1/dest" -xf -`, 'sh', d]);
    expect(readdirSync(join(d, 'out'))).toEqual(['x']);
  });
});
