import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { openStateDb } from '../../../src/catalog/db.ts';
import { listRuns } from '../../../src/catalog/runs.ts';
import { systemClock } from '../../../src/clock.ts';
import { parseResolved } from '../../../src/config/resolve-secrets.ts';
import { Config as ConfigSchema, Host as HostConfig, SnapshotVolume } from '../../../src/config/schema.ts';
import { silentLogger } from '../../../src/log.ts';
import { createLocalHost } from '../../../src/remote/local.ts';
import { createSshHost } from '../../../src/remote/ssh.ts';
import { createServices } from '../../../src/services.ts';
import { btrfsProvider } from '../../../src/snapshots/btrfs.ts';
import { FLUSH_WARNING } from '../../../src/snapshots/btrfs-plan.ts';
import { snapshotName } from '../../../src/snapshots/names.ts';
import { jobLockScope } from '../../../src/storage/layout.ts';
import { acquireLock } from '../../../src/storage/lock.ts';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import { type BtrfsFixture, startBtrfs } from '../../fixtures/btrfs.ts';
import { startSshd } from '../../fixtures/sshd.ts';
import { spawnDaemon } from '../daemon/daemon-proc.ts';

const fx: BtrfsFixture | undefined = startBtrfs();
const host = createLocalHost();
const signal = new AbortController().signal;

describe.skipIf(!fx)('btrfs snapshots on a real filesystem (loop device)', () => {
  let vol: string;
  let cfgDir: string;
  beforeAll(() => {
    vol = fx!.subvolume('data');
    writeFileSync(join(vol, 'a.txt'), 'one\n');
    cfgDir = join(fx!.mnt, 'cfg');
    mkdirSync(cfgDir);
  });
  afterAll(async () => {
    await host.close();
    fx?.stop();
  });

  it('creates a read-only snapshot, lists it with its marker, and deletes it', async () => {
    const spec = SnapshotVolume.parse({ provider: 'btrfs', volume: vol });
    const name = snapshotName('unit', new Date('2026-11-22T02:00:00Z'));
    const snap = await btrfsProvider.create(host, spec, name, { signal, marker: 'run-1' });
    expect(snap.ref).toBe(join(vol, '.bo-snapshots', name));
    expect(snap.warnings).toEqual([FLUSH_WARNING]);
    writeFileSync(join(vol, 'a.txt'), 'two\n');
    const view = await btrfsProvider.mountForRead(host, spec, snap, { signal });
    expect(view).toEqual({ path: snap.ref, livePath: vol });
    expect(execFileSync('cat', [join(view.path, 'a.txt')], { encoding: 'utf8' })).toBe('one\n');
    expect(() => writeFileSync(join(view.path, 'b.txt'), 'x')).toThrow(/EROFS|read-only/);

    const listed = await btrfsProvider.list(host, spec, { signal });
    expect(listed.map((s) => [s.name, s.job, s.marker])).toEqual([[name, 'unit', 'run-1']]);
    await btrfsProvider.release(host, spec, snap, { signal });
    await btrfsProvider.delete(host, spec, snap, { signal });
    expect(await btrfsProvider.list(host, spec, { signal })).toEqual([]);
    expect(readdirSync(join(vol, '.bo-snapshots'))).toEqual([]);
  });

  it('leaves snapshots and directories bo did not name alone', async () => {
    const spec = SnapshotVolume.parse({ provider: 'btrfs', volume: vol });
    const dir = join(vol, '.bo-snapshots');
    execFileSync('btrfs', ['subvolume', 'snapshot', '-r', vol, join(dir, 'manual-before-upgrade')], {
      stdio: 'ignore',
    });
    mkdirSync(join(dir, 'bo-fake-20261122T020000Z')); // a plain directory with a bo name: not a subvolume
    expect(await btrfsProvider.list(host, spec, { signal })).toEqual([]);
    const fake = {
      provider: 'btrfs' as const,
      volume: vol,
      name: 'bo-fake-20261122T020000Z',
      job: 'fake',
      time: new Date(),
      ref: '',
    };
    await expect(btrfsProvider.delete(host, spec, fake, { signal })).rejects.toThrow(
      /is not a subvolume; not deleting it/,
    );
    expect(existsSync(join(dir, 'bo-fake-20261122T020000Z'))).toBe(true);
    execFileSync('btrfs', ['subvolume', 'delete', join(dir, 'manual-before-upgrade')], { stdio: 'ignore' });
    execFileSync('rmdir', [join(dir, 'bo-fake-20261122T020000Z')]);
  });

  it('refuses a volume that is not a subvolume and a target that exists', async () => {
    mkdirSync(join(vol, 'plain'), { recursive: true });
    const plain = SnapshotVolume.parse({ provider: 'btrfs', volume: join(vol, 'plain') });
    await expect(btrfsProvider.create(host, plain, 'bo-x-20261122T020000Z', { signal })).rejects.toThrow(
      /is not a btrfs subvolume/,
    );
    const spec = SnapshotVolume.parse({ provider: 'btrfs', volume: vol });
    const snap = await btrfsProvider.create(host, spec, 'bo-x-20261122T020000Z', { signal });
    await expect(btrfsProvider.create(host, spec, 'bo-x-20261122T020000Z', { signal })).rejects.toThrow(
      /already exists/,
    );
    await btrfsProvider.delete(host, spec, snap, { signal });
  });

  it('does not warn once the filesystem is mounted with flushoncommit', async () => {
    execFileSync('mount', ['-o', 'remount,flushoncommit', fx!.mnt]);
    try {
      const spec = SnapshotVolume.parse({ provider: 'btrfs', volume: vol });
      const snap = await btrfsProvider.create(host, spec, 'bo-f-20261122T020000Z', { signal });
      expect(snap.warnings).toEqual([]);
      await btrfsProvider.delete(host, spec, snap, { signal });
    } finally {
      execFileSync('mount', ['-o', 'remount,noflushoncommit', fx!.mnt]);
    }
  });

  it('reports exclusive sizes when quotas are enabled', async () => {
    const sub = fx!.subvolume('quota');
    execFileSync('btrfs', ['quota', 'enable', sub]);
    const spec = SnapshotVolume.parse({ provider: 'btrfs', volume: sub });
    const snap = await btrfsProvider.create(host, spec, 'bo-q-20261122T020000Z', { signal });
    execFileSync('btrfs', ['quota', 'rescan', '-w', sub], { stdio: 'ignore' });
    const [listed] = await btrfsProvider.list(host, spec, { signal });
    expect(listed?.size).toBeGreaterThan(0);
    await btrfsProvider.delete(host, spec, snap, { signal });
    execFileSync('btrfs', ['quota', 'disable', sub]);
  });

  it('works the same over SSH (loopback sshd)', async () => {
    const sshd = await startSshd();
    if (!sshd) return;
    const ssh = createSshHost('files1', parseResolved(HostConfig, sshd.hostConfig()), {
      log: silentLogger(),
    });
    try {
      const spec = SnapshotVolume.parse({ provider: 'btrfs', volume: vol });
      const snap = await btrfsProvider.create(ssh, spec, 'bo-ssh-20261122T020000Z', {
        signal,
        marker: 'run-ssh',
      });
      expect((await btrfsProvider.list(ssh, spec, { signal })).map((s) => [s.name, s.marker])).toEqual([
        ['bo-ssh-20261122T020000Z', 'run-ssh'],
      ]);
      await btrfsProvider.delete(ssh, spec, snap, { signal });
      expect(await btrfsProvider.list(ssh, spec, { signal })).toEqual([]);
    } finally {
      await ssh.close();
      await sshd.stop();
    }
  });

  it('snapshot jobs: `bo snapshot now`, `bo snapshots`, and `bo snapshot prune` by retention', async () => {
    const vol2 = fx!.subvolume('www');
    const config = writeConfig(
      {
        stateDir: join(cfgDir, 'state'),
        jobs: {
          www: {
            kind: 'snapshot',
            host: 'local',
            provider: 'btrfs',
            volume: vol2,
            retention: { hourly: 2, timezone: 'UTC' },
          },
          other: { kind: 'snapshot', host: 'local', provider: 'btrfs', volume: vol2 },
        },
      },
      cfgDir,
    );
    const spec = SnapshotVolume.parse({ provider: 'btrfs', volume: vol2 });
    // History from earlier runs: two in the same hour a day ago, and two older ones.
    const H = 3_600_000;
    const hourAgo = Math.floor((Date.now() - 24 * H) / H) * H;
    const old = [hourAgo - 48 * H, hourAgo - 24 * H, hourAgo + 5 * 60_000, hourAgo + 10 * 60_000].map(
      (t) => new Date(t),
    );
    for (const t of old) await btrfsProvider.create(host, spec, snapshotName('www', t), { signal });
    await btrfsProvider.create(host, spec, snapshotName('other', old[0]!), { signal });
    const keptOld = snapshotName('www', old[3]!);

    const now = await runBo(['--config', config, 'snapshot', 'now', 'www', '--json']);
    // The loop filesystem is mounted without flushoncommit: bo says the snapshot may not be one instant.
    expect(now.stderr).toMatch(/not mounted with flushoncommit.*Snapshot may not be one point in time/);
    expect(now.code).toBe(0);
    const outcome = JSON.parse(now.stdout).jobs[0];
    expect(outcome.outcome).toBe('ok');
    // The job pruned right after taking its snapshot: newest (now) + newest of the previous hour.
    expect(outcome.result.summary).toMatch(/created; 3 pruned, 2 kept$/);

    // Recorded in the run history like `bo backup now`: `bo status` does not say "never ran".
    const db = openStateDb(join(cfgDir, 'state'));
    try {
      expect(listRuns(db, { job: 'www' })).toEqual([
        expect.objectContaining({ kind: 'snapshot', trigger: 'manual', outcome: 'ok' }),
      ]);
    } finally {
      db.close();
    }

    const list = await runBo(['--config', config, 'snapshots', '--json']);
    expect(list.code).toBe(0);
    const snaps = JSON.parse(list.stdout).snapshots as Array<{
      job: string;
      name: string;
      leftover: boolean;
      ageSeconds: number;
      size: number | null;
    }>;
    expect(snaps.find((s) => s.name === keptOld)!.ageSeconds).toBeGreaterThan(23 * 3600);
    // No quotas on this filesystem: sizes are unknown unless measured with --du.
    expect(snaps.every((s) => s.size === null)).toBe(true);
    const du = await runBo(['--config', config, 'snapshots', '--du', '--json']);
    expect(du.code).toBe(0);
    const sized = JSON.parse(du.stdout).snapshots as Array<{ size: number | null }>;
    expect(sized.length).toBe(snaps.length);
    expect(sized.every((s) => typeof s.size === 'number')).toBe(true);
    expect(snaps.filter((s) => s.job === 'www').map((s) => s.name)).toEqual([
      keptOld,
      expect.stringMatching(/^bo-www-\d{8}T\d{6}Z$/),
    ]);
    expect(snaps.filter((s) => s.job === 'other')).toHaveLength(1);
    expect(fx!.subvolumes().filter((s) => s.includes('bo-www-'))).toHaveLength(2);

    const table = await runBo(['--config', config, 'snapshots', 'local']);
    expect(table.stdout).toMatch(/HOST\s+JOB\s+PROVIDER\s+SNAPSHOT\s+AGE\s+SIZE\s+STATE/);
    expect(table.stdout).toMatch(
      new RegExp(`local\\s+www\\s+btrfs\\s+\\S+${keptOld}\\s+\\d+[hd] ago\\s+-\\s+ok`),
    );

    mkdirSync(join(cfgDir, 'strict'));
    // A stricter policy: dry run first, then for real; `other` has no policy and keeps all.
    const stricter = writeConfig(
      {
        stateDir: join(cfgDir, 'state'),
        jobs: {
          www: { kind: 'snapshot', host: 'local', provider: 'btrfs', volume: vol2, retention: { last: 1 } },
          other: { kind: 'snapshot', host: 'local', provider: 'btrfs', volume: vol2 },
        },
      },
      join(cfgDir, 'strict'),
    );
    const dry = await runBo(['--config', stricter, 'snapshot', 'prune', '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout).jobs as Array<{
      job: string;
      snapshots: Array<{ name: string; action: string; reasons: string[] }>;
    }>;
    const www = plan.find((j) => j.job === 'www')!;
    expect(www.snapshots.map((s) => [s.action, s.reasons[0]])).toEqual([
      ['keep', 'last #1'],
      ['delete', 'no rule matched'],
    ]);
    expect(fx!.subvolumes().filter((s) => s.includes('bo-www-'))).toHaveLength(2);
    const pruned = await runBo(['--config', stricter, 'snapshot', 'prune']);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toMatch(/1 snapshot\(s\) deleted/);
    expect(fx!.subvolumes().filter((s) => s.includes('bo-www-'))).toEqual([
      expect.stringContaining(www.snapshots[0]!.name),
    ]);
    expect(fx!.subvolumes().filter((s) => s.includes('bo-other-'))).toHaveLength(1);
  });

  it('`bo snapshot now` goes through a running daemon; prune of a job without snapshots is a usage error', async () => {
    const vol4 = fx!.subvolume('viad');
    const dir = join(cfgDir, 'viad');
    mkdirSync(dir);
    const config = writeConfig(
      {
        stateDir: join(dir, 'state'),
        daemon: { socket: join(dir, 'bo.sock') },
        storage: { repo: { type: 'filesystem', path: join(dir, 'repo') } },
        jobs: {
          viad: { kind: 'snapshot', host: 'local', provider: 'btrfs', volume: vol4 },
          plain: { host: 'local', paths: [vol4], storage: 'repo' },
        },
      },
      dir,
    );
    const d = await spawnDaemon(config);
    try {
      await d.waitFor((l) => l.msg === 'Daemon started');
      const r = await runBo(['--config', config, 'snapshot', 'now', 'viad', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const [o] = JSON.parse(r.stdout).jobs;
      expect(o).toMatchObject({ job: 'viad', kind: 'snapshot', outcome: 'ok' });
      expect(o.result.summary).toMatch(/^viad: snapshot \S+bo-viad-\d{8}T\d{6}Z created/);
      const started = await d.waitFor((l) => l.msg === 'Run started' && l.job === 'viad');
      expect(started.trigger).toBe('manual');
    } finally {
      d.child.kill('SIGTERM');
      await d.exited;
    }
    expect(
      (await btrfsProvider.list(host, SnapshotVolume.parse({ provider: 'btrfs', volume: vol4 }), { signal }))
        .length,
    ).toBe(1);

    const bad = await runBo(['--config', config, 'snapshot', 'prune', 'plain']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /job "plain" has no snapshots to manage: it is a backup job without snapshot:/,
    );
  });

  it('`bo snapshot prune` removes a consistent backup’s leftover from a crashed run, once old enough', async () => {
    const vol3 = fx!.subvolume('mail');
    const spec = SnapshotVolume.parse({ provider: 'btrfs', volume: vol3 });
    const crashed = snapshotName('mailbk', new Date(Date.now() - 48 * 3_600_000));
    const recent = snapshotName('mailbk', new Date(Date.now() - 60_000));
    await btrfsProvider.create(host, spec, crashed, { signal, marker: 'run-crashed' });
    await btrfsProvider.create(host, spec, recent, { signal, marker: 'run-maybe-running' });
    const dir = join(cfgDir, 'leftover');
    mkdirSync(dir);
    const config = writeConfig(
      {
        stateDir: join(cfgDir, 'state'),
        storage: { repo: { type: 'filesystem', path: join(cfgDir, 'repo') } },
        jobs: {
          mailbk: {
            host: 'local',
            paths: [vol3],
            storage: 'repo',
            snapshot: { provider: 'btrfs', volume: vol3 },
          },
        },
      },
      dir,
    );
    const list = await runBo(['--config', config, 'snapshots']);
    expect(list.stdout).toMatch(
      new RegExp(`${crashed}\\s+\\d+d ago\\s+-\\s+leftover of an interrupted backup run`),
    );
    // While a run of the job holds its storage lock, even an old leftover may be in use: kept.
    const services = createServices({
      config: parseResolved(ConfigSchema, parseYaml(readFileSync(config, 'utf8'))),
      log: silentLogger(),
      clock: systemClock,
    });
    const lock = await acquireLock(
      { storage: services.storage('repo'), clock: systemClock, log: silentLogger() },
      jobLockScope('mailbk'),
      { purpose: 'backup', runId: 'run-long' },
    );
    try {
      const held = await runBo(['--config', config, 'snapshot', 'prune', '--json']);
      expect(held.code).toBe(0);
      expect(
        JSON.parse(held.stdout).jobs[0].snapshots.map(
          (s: { name: string; action: string; reasons: string[] }) => [s.name, s.action, s.reasons[0]],
        ),
      ).toEqual([
        [recent, 'keep', expect.stringMatching(/lock is held \(backup on .* run run-long\)/)],
        [crashed, 'keep', expect.stringMatching(/lock is held/)],
      ]);
    } finally {
      await lock.release();
    }
    const r = await runBo(['--config', config, 'snapshot', 'prune', '--json']);
    expect(r.code).toBe(0);
    expect(
      JSON.parse(r.stdout).jobs[0].snapshots.map((s: { name: string; action: string }) => [s.name, s.action]),
    ).toEqual([
      [recent, 'keep'],
      [crashed, 'delete'],
    ]);
    expect((await btrfsProvider.list(host, spec, { signal })).map((s) => s.name)).toEqual([recent]);
  });
});
