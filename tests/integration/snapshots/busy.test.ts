import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseStillBusy, retryWhileBusy, waitUnusedCommand } from '../../../src/snapshots/busy-plan.ts';
import { mountDir, unmountCommand } from '../../../src/snapshots/lvm-plan.ts';
import { snapshotName } from '../../../src/snapshots/names.ts';
import { missing } from '../../fixtures/require.ts';
import { until } from '../../fixtures/until.ts';

const sh = (script: string) => {
  try {
    return { code: 0, out: execFileSync('sh', ['-c', script], { encoding: 'utf8', stdio: 'pipe' }) };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, out: e.stdout, err: e.stderr };
  }
};

/** The release helpers' shell scripts, run by the real /bin/sh against real processes. */
describe('waiting for a snapshot to be unused, retrying busy commands', () => {
  const work = mkdtempSync(join(tmpdir(), 'bo-busy-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('retries while the error says busy, then succeeds', () => {
    const n = join(work, 'n');
    writeFileSync(n, '0');
    // Fails "target is busy" twice, then works.
    const cmd = `c=$(cat ${n}); echo $((c+1)) > ${n}; [ $c -ge 2 ] || { echo "umount: /x: target is busy." >&2; exit 32; }`;
    expect(sh(retryWhileBusy(cmd, 5, 0)).code).toBe(0);
    expect(sh(`cat ${n}`).out.trim()).toBe('3');
  });

  it('gives up after the tries with the last message, and fails other errors at once', () => {
    const n = join(work, 'm');
    writeFileSync(n, '0');
    const busy = sh(retryWhileBusy(`echo x >> ${n}; echo "dataset is busy" >&2; exit 1`, 3, 0));
    expect(busy.code).toBe(1);
    expect(busy.err).toBe('dataset is busy\n');
    expect(sh(`wc -l < ${n}`).out.trim()).toBe('3');
    writeFileSync(n, '');
    const other = sh(retryWhileBusy(`echo x >> ${n}; echo "no such dataset" >&2; exit 1`, 3, 0));
    expect(other.code).toBe(1);
    expect(sh(`wc -l < ${n}`).out.trim()).toBe('1');
  });

  it('waits until no process holds a file under the path, then returns', async () => {
    const dir = join(work, 'snap');
    mkdirSync(dir);
    writeFileSync(join(dir, 'f'), 'x');
    const opened = join(work, 'opened');
    const holder = spawn('sh', ['-c', `exec 3< '${join(dir, 'f')}'; touch '${opened}'; sleep 1.5`], {
      stdio: 'ignore',
    });
    let exited = false;
    holder.on('exit', () => {
      exited = true;
    });
    expect(await until(() => existsSync(opened))).toBe(true);
    const r = await new Promise<string>((resolve) => {
      const p = spawn('sh', ['-c', waitUnusedCommand(dir, 20)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      p.stdout.on('data', (d) => {
        out += d;
      });
      p.on('close', () => resolve(out));
    });
    expect(exited).toBe(true);
    expect(r).toBe('');
  });

  it('the LVM release retries a busy umount until a dying reader is gone', async (t) => {
    if (missing('root (to mount a tmpfs)', process.getuid?.() === 0, 'run the tests as root (CI does)'))
      return t.skip();
    const name = snapshotName('busytest', new Date());
    const dir = mountDir(name);
    mkdirSync(dir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
    // Keeps the mount busy for about 3 s: the first umount attempts fail "target is busy".
    const holder = spawn('sleep', ['3'], { cwd: dir, stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      expect(sh(`umount ${dir}`).err).toMatch(/busy/);
      const r = sh(unmountCommand(name));
      expect(r.code, r.err).toBe(0);
      expect(sh(`mountpoint -q ${dir}`).code).not.toBe(0);
    } finally {
      holder.kill('SIGKILL');
      sh(`umount ${dir} 2>/dev/null; rmdir ${dir}`);
    }
  });

  it('names the processes still using it after the time limit', () => {
    const dir = join(work, 'cwd here');
    mkdirSync(dir);
    const holder = spawn('sleep', ['30'], { cwd: dir, stdio: 'ignore' });
    try {
      const busy = parseStillBusy(sh(waitUnusedCommand(dir, 0.5)).out);
      expect(busy).toEqual([{ pid: holder.pid, command: 'sleep' }]);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
