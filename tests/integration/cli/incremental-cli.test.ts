/**
 * What a sysadmin sees of incremental chains, through the real `bo`: the result line says full or
 * incremental (and why a full), `bo list` shows each backup's type, `bo ls` the merged tree with
 * where each file comes from, `bo status` the chain's length and its full's age, the report what
 * each incremental added; `--full` works here and through a running daemon.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import { type DaemonProc, spawnDaemon } from '../daemon/daemon-proc.ts';

describe('incremental chains at the command line', () => {
  const work = mkdtempSync(join(tmpdir(), 'bo-inc-cli-'));
  const src = join(work, 'src');
  const config = writeConfig(
    {
      stateDir: join(work, 'state'),
      daemon: { socket: join(work, 'bo.sock') },
      storage: { repo: { type: 'filesystem', path: join(work, 'repo') } },
      jobs: { docs: { host: 'local', paths: [src], storage: 'repo' } },
    },
    work,
  );
  const bo = (...args: string[]) => runBo(['--config', config, ...args]);
  const lines: string[] = [];

  beforeAll(async () => {
    mkdirSync(join(src, 'a'), { recursive: true });
    writeFileSync(join(src, 'a/one'), 'one');
    for (const change of ['two', 'three']) {
      const r = await bo('backup', 'now', 'docs');
      expect(r.code, r.stderr).toBe(0);
      lines.push(r.stdout.split('\n')[0]!);
      writeFileSync(join(src, 'a', change), change);
    }
    const r = await bo('backup', 'now', 'docs');
    lines.push(r.stdout.split('\n')[0]!);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('the result line says full (and why) or incremental, with its level', () => {
    expect(lines[0]).toMatch(/\(full: first backup of the job\)$/);
    expect(lines[1]).toMatch(/\(incremental, level 1\)$/);
    expect(lines[2]).toMatch(/\(incremental, level 2\)$/);
  });

  it('bo list shows each backup type, and --json the manifest chain', async () => {
    const r = await bo('list');
    expect(r.stdout).toMatch(/^BACKUP +HOST +AGE +TYPE /m);
    expect(r.stdout.match(/ (full|incr \d) /g)?.map((s) => s.trim())).toEqual(['full', 'incr 1', 'incr 2']);
    const json = JSON.parse((await bo('list', '--json')).stdout) as {
      backups: Array<{
        id: string;
        chain: { type: string; level: number; parent: string | null; root: string };
      }>;
    };
    const [full, i1, i2] = json.backups;
    expect(i2!.chain).toEqual({ type: 'incremental', level: 2, parent: i1!.id, root: full!.id });
    expect(full!.chain).toMatchObject({
      type: 'full',
      level: 0,
      parent: null,
      root: full!.id,
      reason: 'first backup of the job',
    });
  });

  it('bo ls of the newest shows the whole tree and which backup holds each file', async () => {
    const json = JSON.parse((await bo('list', '--json')).stdout) as { backups: Array<{ id: string }> };
    const ids = json.backups.map((b) => b.id);
    const r = await bo('ls', `docs/${ids[2]}`, '--json');
    const files = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { path: string; type: string; from: string })
      .filter((e) => e.type === 'file')
      .map((e) => `${e.path.split('/').at(-1)} ${ids.indexOf(e.from)}`);
    // Files changed within the snapshot file's margin before a backup are archived again by the
    // next one, so only where the newest file comes from is certain.
    expect(files.map((f) => f.split(' ')[0]).sort()).toEqual(['one', 'three', 'two']);
    expect(files).toContain('three 2');
    expect(files.every((f) => /[012]$/.test(f))).toBe(true);
    expect((await bo('ls', `docs/${ids[2]}`)).stdout).toMatch(/PATH +FROM\n/);
  });

  it('bo status shows the chain length and the full age; the report what each incremental added', async () => {
    const s = await bo('status');
    expect(s.stdout).toMatch(/^docs +backup +local +ok \d+s ago .* · incr 2, full \d+s ago/m);
    const md = await bo('report', '--format', 'md');
    expect(md.stdout).toMatch(/\| chain of 3: full [\d.]+s ago, then \+\S+ \S+, \+\S+ \S+ \|/);
  });

  it('--full starts a new chain, here and through a running daemon', async () => {
    const here = await bo('backup', 'now', 'docs', '--full');
    expect(here.stdout).toMatch(/\(full: a full was asked for \(--full\)\)/);
    let daemon: DaemonProc | undefined;
    try {
      daemon = await spawnDaemon(config);
      const plain = await bo('backup', 'now', 'docs');
      expect(plain.stdout).toMatch(/\(incremental, level 1\)/);
      const full = await bo('backup', 'now', 'docs', '--full');
      expect(full.code, full.stderr).toBe(0);
      expect(full.stdout).toMatch(/\(full: a full was asked for \(--full\)\)/);
    } finally {
      daemon?.child.kill('SIGTERM');
      await daemon?.exited;
    }
  });
});
