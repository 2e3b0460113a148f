import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBackups } from '../../../src/catalog/backups.ts';
import { readIndex } from '../../../src/catalog/objects.ts';
import { systemClock } from '../../../src/clock.ts';
import { parseResolved } from '../../../src/config/resolve-secrets.ts';
import { Config, SnapshotVolume } from '../../../src/config/schema.ts';
import { CancelledError } from '../../../src/errors.ts';
import { runJob } from '../../../src/jobs/registry.ts';
import type { Host } from '../../../src/remote/host.ts';
import { createLocalHost } from '../../../src/remote/local.ts';
import { createServices, type Services } from '../../../src/services.ts';
import { btrfsProvider } from '../../../src/snapshots/btrfs.ts';
import { snapshotName } from '../../../src/snapshots/names.ts';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import { type BtrfsFixture, startBtrfs } from '../../fixtures/btrfs.ts';
import { until } from '../../fixtures/until.ts';

// flushoncommit: without it a btrfs snapshot of a busy writer is not one instant (see btrfs-plan.ts).
const fx: BtrfsFixture | undefined = startBtrfs(512, 'flushoncommit');
const FILES = 40;

/**
 * Consistent backups from a real btrfs snapshot (loop device), with host `local` and filesystem
 * storage. A writer keeps rewriting the live subvolume the whole time: file i holds the
 * generation g it was last written in, files are rewritten in order (each by an atomic rename),
 * and `ledger` gets g appended once a generation is complete. Any instant's state is therefore
 * "files 0..k-1 at g+1, the rest at g, ledger ending in g" — a tar of the live tree reading the
 * files at different instants would not be.
 */
describe.skipIf(!fx)('consistent backup from a btrfs snapshot', () => {
  let vol: string;
  let repo: string;
  let writer: ChildProcess;
  const logLines: Array<{ msg: string; snapshot?: string }> = [];
  const log = pino({ level: 'info' }, { write: (s: string) => logLines.push(JSON.parse(s)) });

  beforeAll(() => {
    vol = fx!.subvolume('data');
    repo = join(fx!.mnt, 'repo');
    mkdirSync(join(vol, 'app'));
    for (let i = 0; i < FILES; i++) writeFileSync(join(vol, 'app', name(i)), '0\n');
    writeFileSync(join(vol, 'app', 'ledger'), '0\n');
    // Bulk so that tar is still reading while the writer works.
    execFileSync('dd', ['if=/dev/urandom', `of=${join(vol, 'bulk.bin')}`, 'bs=1M', 'count=24'], {
      stdio: 'ignore',
    });
    fx!.subvolume('data/nested');
    writeFileSync(join(vol, 'nested', 'x'), 'in a nested subvolume\n');
    const script = `g=0; while :; do g=$((g+1)); i=0; while [ $i -lt ${FILES} ]; do f=$(printf 'f%02d' $i); echo $g > app/.w; mv app/.w app/$f; i=$((i+1)); done; echo $g >> app/ledger; sleep 0.02; done`;
    writer = spawn('sh', ['-c', script], { cwd: vol, stdio: 'ignore' });
  });

  afterAll(() => {
    writer?.kill('SIGKILL');
    fx?.stop();
  });

  function config(jobs: Record<string, unknown>): Config {
    return parseResolved(Config, {
      stateDir: join(fx!.mnt, 'state'),
      storage: { repo: { type: 'filesystem', path: repo } },
      jobs,
    });
  }

  /**
   * Services whose `local` host runs `onTar` right after tar has started, before it is awaited,
   * and `onRun` before each command it runs to completion.
   */
  function services(cfg: Config, onTar?: () => void, onRun?: (command: string) => void): Services {
    const base = createServices({ config: cfg, log, clock: systemClock });
    const local = createLocalHost();
    const host: Host = {
      ...local,
      name: 'local',
      async exec(command, opts) {
        const p = await local.exec(command, opts);
        if (/\btar -c\b/.test(command)) onTar?.();
        return p;
      },
      async run(command, opts) {
        onRun?.(command);
        return local.run(command, opts);
      },
    };
    return { ...base, host: () => host };
  }

  function ctx(s: Services, signal = new AbortController().signal) {
    return { services: s, log, signal, runId: randomUUID() };
  }

  function snapshotsLeft(job: string): string[] {
    return readdirSync(join(vol, '.bo-snapshots')).filter((n) => n.startsWith(`bo-${job}-`));
  }

  it('archives the snapshot-time state, under the original paths, and releases the snapshot', async () => {
    const cfg = config({
      app: {
        host: 'local',
        paths: [join(vol, 'app'), join(vol, 'bulk.bin')],
        storage: 'repo',
        snapshot: { provider: 'btrfs', volume: vol },
      },
    });
    let atTar: Map<string, string> | undefined;
    const s = services(cfg, () => {
      // The snapshot is immutable: what it holds now is what it held when it was taken.
      const [snap] = readdirSync(join(vol, '.bo-snapshots')).filter((n) => n.startsWith('bo-app-'));
      atTar = hashes(join(vol, '.bo-snapshots', snap!, 'app'));
    });
    const result = await runJob('app', cfg.jobs.app!, ctx(s));
    expect(result.backupId).toBeDefined();

    const storage = s.storage('repo');
    const [ref] = (await listBackups(storage, { job: 'app' })).backups;
    expect(ref!.manifest.snapshot).toEqual({
      provider: 'btrfs',
      volume: vol,
      name: expect.stringMatching(/^bo-app-\d{8}T\d{6}Z$/),
      sourcePath: join(vol, '.bo-snapshots', ref!.manifest.snapshot!.name),
    });
    expect(ref!.manifest.paths).toEqual([join(vol, 'app'), join(vol, 'bulk.bin')]);
    expect(ref!.manifest.warnings).toEqual([]);
    const index = await readIndex(storage, ref!, undefined);
    const prefix = `${join(vol, 'app').slice(1)}/`;
    const archived = new Map(
      index
        .filter((e) => e.path.startsWith(prefix) && e.type === 'file')
        .map((e) => [e.path.slice(prefix.length), e.sha256!]),
    );
    expect(index.some((e) => e.path.includes('.bo-snapshots'))).toBe(false);
    expect(index.some((e) => e.path === join(vol, 'bulk.bin').slice(1))).toBe(true);

    // The archive holds exactly the snapshot's state ...
    expect(archived).toEqual(atTar);
    // ... and that state is one instant of the writer: consistent.
    const restored = join(fx!.mnt, 'restored');
    const r = await runBo([
      '--config',
      writeConfig(cfg, mkdirTemp('cfg1')),
      'restore',
      'app',
      '--to',
      restored,
    ]);
    expect(r.code).toBe(0);
    const gens = Array.from({ length: FILES }, (_, i) =>
      Number(readFileSync(join(restored, vol, 'app', name(i)), 'utf8')),
    );
    const ledger = readFileSync(join(restored, vol, 'app', 'ledger'), 'utf8')
      .trim()
      .split('\n')
      .map(Number);
    expectConsistent(gens, ledger.at(-1)!);
    // Meanwhile the live tree moved on.
    await waitFor(
      () =>
        Number(
          readFileSync(join(vol, 'app', 'ledger'), 'utf8')
            .trim()
            .split('\n')
            .at(-1),
        ) >
        ledger.at(-1)! + 1,
    );
    expect(snapshotsLeft('app')).toEqual([]);
  });

  it('removes a crashed run’s leftover snapshot first, and leaves unmarked ones alone', async () => {
    const cfg = config({
      left: {
        host: 'local',
        paths: [join(vol, 'app')],
        storage: 'repo',
        snapshot: { provider: 'btrfs', volume: vol },
      },
    });
    const spec = SnapshotVolume.parse({ provider: 'btrfs', volume: vol });
    const host = createLocalHost();
    const signal = new AbortController().signal;
    const crashed = snapshotName('left', new Date(Date.now() - 3_600_000));
    const manual = snapshotName('left', new Date(Date.now() - 7_200_000));
    await btrfsProvider.create(host, spec, crashed, { signal, marker: 'run-that-crashed' });
    await btrfsProvider.create(host, spec, manual, { signal });
    await runJob('left', cfg.jobs.left!, ctx(services(cfg)));
    expect(snapshotsLeft('left')).toEqual([manual]);
    expect(
      logLines
        .filter((l) => l.msg === 'Removed leftover snapshot of an interrupted backup run')
        .map((l) => l.snapshot),
    ).toEqual([join(vol, '.bo-snapshots', crashed)]);
    expect(logLines.some((l) => l.msg.includes('has no run marker') && l.snapshot?.endsWith(manual))).toBe(
      true,
    );
    await btrfsProvider.delete(
      host,
      spec,
      (await btrfsProvider.list(host, spec, { signal })).find((s) => s.name === manual)!,
      { signal },
    );
  });

  it('fails with nothing stored when a path is not in the snapshot (a nested subvolume), and releases it', async () => {
    const cfg = config({
      nest: {
        host: 'local',
        paths: [join(vol, 'nested', 'x')],
        storage: 'repo',
        snapshot: { provider: 'btrfs', volume: vol },
      },
    });
    await expect(runJob('nest', cfg.jobs.nest!, ctx(services(cfg)))).rejects.toThrow(
      /nested\/x does not exist in snapshot .*bo-nest-/,
    );
    expect(snapshotsLeft('nest')).toEqual([]);
    expect(readdirSync(repo).includes('nest') ? readdirSync(join(repo, 'nest')) : []).toEqual([]);
  });

  it('releases the snapshot when the run is cancelled mid-tar, and keeps no backup', async () => {
    const cfg = config({
      cancel: {
        host: 'local',
        paths: [join(vol, 'bulk.bin')],
        storage: 'repo',
        snapshot: { provider: 'btrfs', volume: vol },
      },
    });
    const ac = new AbortController();
    let tarStarted = false;
    const s = services(cfg, () => {
      tarStarted = true;
      expect(snapshotsLeft('cancel')).toHaveLength(1);
      ac.abort();
    });
    await expect(runJob('cancel', cfg.jobs.cancel!, ctx(s, ac.signal))).rejects.toThrow(CancelledError);
    expect(tarStarted).toBe(true);
    expect(snapshotsLeft('cancel')).toEqual([]);
    expect((await listBackups(s.storage('repo'), { job: 'cancel' })).backups).toEqual([]);
  });

  it('waits for a process still reading the snapshot (a dying tar) before deleting it on cancel', async () => {
    const cfg = config({
      dying: {
        host: 'local',
        paths: [join(vol, 'bulk.bin')],
        storage: 'repo',
        snapshot: { provider: 'btrfs', volume: vol },
      },
    });
    const ac = new AbortController();
    const events: string[] = [];
    const s = services(
      cfg,
      () => {
        // Outlives the kill of tar's process group by 1.5 s, holding a file of the snapshot open.
        const [snap] = snapshotsLeft('dying');
        const file = join(vol, '.bo-snapshots', snap!, 'bulk.bin');
        const holder = spawn('sh', ['-c', `exec 3< '${file}'; sleep 1.5`], {
          detached: true,
          stdio: 'ignore',
        });
        holder.on('exit', () => events.push('reader gone'));
        setTimeout(() => ac.abort(), 100);
      },
      (command) => {
        if (command.includes('btrfs subvolume delete')) events.push('delete');
      },
    );
    await expect(runJob('dying', cfg.jobs.dying!, ctx(s, ac.signal))).rejects.toThrow(CancelledError);
    expect(events).toEqual(['reader gone', 'delete']);
    expect(snapshotsLeft('dying')).toEqual([]);
    expect((await listBackups(s.storage('repo'), { job: 'dying' })).backups).toEqual([]);
  });

  it('fails, naming it, when a nested subvolume or a mount lies below a path; stores nothing', async () => {
    mkdirSync(join(vol, 'mnts', 'tmp'), { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', join(vol, 'mnts', 'tmp')]);
    try {
      const cfg = config({
        whole: { host: 'local', paths: [vol], storage: 'repo', snapshot: { provider: 'btrfs', volume: vol } },
        mnts: {
          host: 'local',
          paths: [join(vol, 'mnts')],
          storage: 'repo',
          snapshot: { provider: 'btrfs', volume: vol },
        },
      });
      await expect(runJob('whole', cfg.jobs.whole!, ctx(services(cfg)))).rejects.toThrow(
        new RegExp(
          `${join(vol, 'mnts', 'tmp')} is a mount point .* below ${vol}; ${join(vol, 'nested')} is a nested btrfs subvolume below ${vol}; the snapshot of ${vol} does not hold them`,
        ),
      );
      await expect(runJob('mnts', cfg.jobs.mnts!, ctx(services(cfg)))).rejects.toThrow(
        /mnts\/tmp is a mount point .*: nothing was backed up/,
      );
      for (const job of ['whole', 'mnts']) {
        expect(snapshotsLeft(job)).toEqual([]);
        expect(readdirSync(repo).includes(job) ? readdirSync(join(repo, job)) : []).toEqual([]);
      }
    } finally {
      execFileSync('umount', [join(vol, 'mnts', 'tmp')]);
    }
  });

  it('checks for nested volumes before the before hooks, so writers are not stopped for the walk', async () => {
    const hookLog = join(fx!.mnt, 'nested-hooks.log');
    const hooks = (tag: string) => ({
      before: [`echo before-${tag} >> ${hookLog}`],
      afterSnapshot: [`echo afterSnapshot-${tag} >> ${hookLog}`],
      onError: [`echo onError-${tag} >> ${hookLog}`],
      after: [`echo after-${tag} >> ${hookLog}`],
    });
    const job = { host: 'local', paths: [vol], exclude: ['bulk.bin'], storage: 'repo' };
    const cfg = config({
      fails: { ...job, snapshot: { provider: 'btrfs', volume: vol }, ...hooks('fails') },
      skips: { ...job, snapshot: { provider: 'btrfs', volume: vol, nested: 'skip' }, ...hooks('skips') },
    });
    const order: string[] = [];
    const s = services(cfg, undefined, (command) => {
      if (command.includes('-inum 256')) order.push('nested check');
      else if (command.includes('echo before-')) order.push('before hook');
    });
    writeFileSync(hookLog, '');
    await expect(runJob('fails', cfg.jobs.fails!, ctx(s))).rejects.toThrow(/is a nested btrfs subvolume/);
    // Nothing was quiesced, so nothing is resumed; onError and after still run.
    expect(readFileSync(hookLog, 'utf8')).toBe('onError-fails\nafter-fails\n');
    expect(order).toEqual(['nested check']);
    order.length = 0;
    await runJob('skips', cfg.jobs.skips!, ctx(s));
    expect(order).toEqual(['nested check', 'before hook']);
    expect(readFileSync(hookLog, 'utf8')).toBe(
      'onError-fails\nafter-fails\nbefore-skips\nafterSnapshot-skips\nafter-skips\n',
    );
    expect(snapshotsLeft('fails')).toEqual([]);
    expect(snapshotsLeft('skips')).toEqual([]);
  });

  it('with nested: skip, archives a nested subvolume as an empty directory and says so in the manifest', async () => {
    const cfg = config({
      skip: {
        host: 'local',
        paths: [vol],
        exclude: ['bulk.bin', '/' + join(vol, 'app').slice(1)],
        storage: 'repo',
        snapshot: { provider: 'btrfs', volume: vol, nested: 'skip' },
      },
    });
    await runJob('skip', cfg.jobs.skip!, ctx(services(cfg)));
    const storage = services(cfg).storage('repo');
    const [ref] = (await listBackups(storage, { job: 'skip' })).backups;
    expect(ref!.manifest.warnings).toEqual([
      `${join(vol, 'nested')} is a nested btrfs subvolume below ${vol}: not in the snapshot of ${vol}, archived as an empty directory`,
    ]);
    // bo's own snapshot directory is left out, and the manifest records it with the job's excludes.
    expect(ref!.manifest.exclude).toEqual(['bulk.bin', join(vol, 'app'), join(vol, '.bo-snapshots')]);
    const paths = (await readIndex(storage, ref!, undefined)).map((e) => e.path);
    expect(paths).toContain(join(vol, 'nested').slice(1));
    expect(paths.filter((p) => p.includes('nested/') || p.includes('.bo-snapshots'))).toEqual([]);
  });

  it('runs afterSnapshot hooks once the snapshot exists, before tar reads it', async () => {
    const marker = join(fx!.mnt, 'resumed');
    const cfg = config({
      quiesced: {
        host: 'local',
        paths: [join(vol, 'hooked')],
        storage: 'repo',
        snapshot: { provider: 'btrfs', volume: vol },
        afterSnapshot: [
          `ls ${join(vol, '.bo-snapshots')} | grep -c '^bo-quiesced-' > ${marker}; echo "$BO_SNAPSHOT" >> ${marker}`,
          `echo after > ${join(vol, 'hooked', 'late.txt')}`,
        ],
      },
    });
    mkdirSync(join(vol, 'hooked'));
    writeFileSync(join(vol, 'hooked', 'early.txt'), 'before\n');
    let resumedBeforeTar = false;
    const s = services(cfg, () => {
      resumedBeforeTar = existsSync(join(vol, 'hooked', 'late.txt'));
    });
    await runJob('quiesced', cfg.jobs.quiesced!, ctx(s));
    expect(resumedBeforeTar).toBe(true);
    const [count, ref] = readFileSync(marker, 'utf8').trim().split('\n');
    expect(count).toBe('1');
    expect(ref).toMatch(new RegExp(`^${join(vol, '.bo-snapshots')}/bo-quiesced-\\d{8}T\\d{6}Z$`));
    // Written after the snapshot was taken: in the live tree, not in the backup.
    const [b] = (await listBackups(s.storage('repo'), { job: 'quiesced' })).backups;
    const files = (await readIndex(s.storage('repo'), b!, undefined)).map((e) => e.path);
    expect(files).toContain(join(vol, 'hooked', 'early.txt').slice(1));
    expect(files).not.toContain(join(vol, 'hooked', 'late.txt').slice(1));
  });

  it("a live backup of a volume with a snapshot job leaves bo's snapshots out", async () => {
    const cfg = config({
      snaps: { kind: 'snapshot', host: 'local', provider: 'btrfs', volume: vol },
      live: { host: 'local', paths: [vol], exclude: ['bulk.bin'], storage: 'repo' },
    });
    const s = services(cfg);
    await runJob('snaps', cfg.jobs.snaps!, ctx(s));
    expect(snapshotsLeft('snaps')).toHaveLength(1);
    await runJob('live', cfg.jobs.live!, ctx(s));
    const [b] = (await listBackups(s.storage('repo'), { job: 'live' })).backups;
    expect(b!.manifest.exclude).toEqual(['bulk.bin', join(vol, '.bo-snapshots')]);
    const files = (await readIndex(s.storage('repo'), b!, undefined)).map((e) => e.path);
    expect(files).toContain(join(vol, 'app', 'ledger').slice(1));
    expect(files.filter((p) => p.includes('.bo-snapshots'))).toEqual([]);
    expect(
      logLines.some(
        (l) =>
          l.msg === "Leaving bo's snapshot directories out of the backup" &&
          JSON.stringify(l).includes('.bo-snapshots'),
      ),
    ).toBe(true);
    for (const n of snapshotsLeft('snaps'))
      execFileSync('btrfs', ['subvolume', 'delete', join(vol, '.bo-snapshots', n)], { stdio: 'ignore' });
  });

  function mkdirTemp(n: string): string {
    const d = join(fx!.mnt, n);
    mkdirSync(d, { recursive: true });
    return d;
  }
});

function name(i: number): string {
  return `f${String(i).padStart(2, '0')}`;
}

function hashes(dir: string): Map<string, string> {
  return new Map(
    readdirSync(dir)
      .sort()
      .map((f) => [
        f,
        createHash('sha256')
          .update(readFileSync(join(dir, f)))
          .digest('hex'),
      ]),
  );
}

/** Files 0..k-1 one generation ahead of the rest, and the rest at the last complete generation. */
function expectConsistent(gens: number[], lastComplete: number): void {
  const k = gens.findIndex((g) => g !== lastComplete + 1);
  const ahead = k === -1 ? gens.length : k;
  expect(gens.slice(0, ahead).every((g) => g === lastComplete + 1)).toBe(true);
  expect(gens.slice(ahead).every((g) => g === lastComplete)).toBe(true);
}

async function waitFor(cond: () => boolean): Promise<void> {
  expect(await until(cond, 60_000, 50)).toBe(true);
}
