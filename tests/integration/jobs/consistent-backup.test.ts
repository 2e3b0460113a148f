import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBackups } from '../../../src/catalog/backups.ts';
import { readIndex } from '../../../src/catalog/objects.ts';
import { systemClock } from '../../../src/clock.ts';
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
    return Config.parse({
      stateDir: join(fx!.mnt, 'state'),
      storage: { repo: { type: 'filesystem', path: repo } },
      jobs,
    });
  }

  /** Services whose `local` host runs `onTar` right after tar has started, before it is awaited. */
  function services(cfg: Config, onTar?: () => void): Services {
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
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 50));
  expect(cond()).toBe(true);
}
