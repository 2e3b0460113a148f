/**
 * A local restore is as faithful as GNU tar's `--xattrs --acls`: run as root it applies owners,
 * modes, mtimes, user.* and security.* extended attributes, POSIX ACLs (access and default, set
 * with setfacl) and file capabilities (setcap); run as another user it says exactly what it could
 * not apply. Real files, real tar, the real bo executable.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import { missing } from '../../fixtures/require.ts';

const root = process.getuid?.() === 0;
const tools = ['setfattr', 'getfattr', 'setfacl', 'getfacl', 'setcap', 'getcap'].every((t) => {
  try {
    execFileSync('sh', ['-c', `command -v ${t}`]);
    return true;
  } catch {
    return false;
  }
});

/** Every xattr (ACLs and capabilities included) and ACL under `dir`, as getfattr/getfacl print them. */
function attrsOf(dir: string): string {
  const xattrs = execFileSync('getfattr', ['-R', '-h', '-d', '-m', '-', '-e', 'base64', '.'], {
    cwd: dir,
  }).toString();
  const acls = execFileSync('getfacl', ['-R', '-n', '-P', '.'], { cwd: dir }).toString();
  return `${xattrs}\n${acls}`;
}

describe.skipIf(
  missing('root and the attr, acl and libcap tools', root && tools, 'apt install attr acl libcap2-bin'),
)('xattr, ACL and capability fidelity of a local restore', () => {
  const work = mkdtempSync(join(tmpdir(), 'bo-attrs-'));
  const src = join(work, 'src');
  const config = writeConfig(
    {
      stateDir: join(work, 'state'),
      storage: { repo: { type: 'filesystem', path: join(work, 'repo') } },
      jobs: {
        share: { host: 'local', paths: [src], storage: 'repo', incremental: false, frameSize: '64KiB' },
      },
    },
    work,
  );
  beforeAll(async () => {
    mkdirSync(join(src, 'finance'), { recursive: true });
    writeFileSync(join(src, 'finance', 'q3.xlsx'), 'numbers\n');
    writeFileSync(join(src, 'finance', 'plain.txt'), 'no attributes\n');
    execFileSync('setfattr', ['-n', 'user.DOSATTRIB', '-v', '0x00ff1020', join(src, 'finance', 'q3.xlsx')]);
    execFileSync('setfattr', [
      '-n',
      'user.comment',
      '-v',
      'quarterly, "quoted"',
      join(src, 'finance', 'q3.xlsx'),
    ]);
    execFileSync('setfacl', ['-m', 'u:1234:rw-,g:2345:r--', join(src, 'finance', 'q3.xlsx')]);
    execFileSync('setfacl', ['-d', '-m', 'u:1234:rwx', join(src, 'finance')]);
    execFileSync('setfattr', ['-n', 'user.project', '-v', 'ledger', join(src, 'finance')]);
    copyFileSync('/bin/true', join(src, 'ping-helper'));
    chownSync(join(src, 'ping-helper'), 1234, 2345);
    chmodSync(join(src, 'ping-helper'), 0o750);
    execFileSync('setcap', ['cap_net_raw+ep', join(src, 'ping-helper')]);
    writeFileSync(join(src, 'odd\nname'), 'x');
    execFileSync('setfattr', ['-n', 'user.odd', '-v', 'yes', join(src, 'odd\nname')]);
    const r = await runBo(['--config', config, 'backup', 'now', 'share']);
    expect(r.code, r.stderr).toBe(0);
  }, 60_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('as root restores every attribute, ACL and capability exactly, whole or one file', async () => {
    const dest = join(work, 'as-root');
    const r = await runBo(['--config', config, 'restore', 'share', '--to', dest]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(attrsOf(join(dest, src))).toBe(attrsOf(src));
    expect(execFileSync('getcap', [join(dest, src, 'ping-helper')]).toString()).toContain('cap_net_raw=ep');

    const one = join(work, 'one');
    const p = await runBo([
      '--config',
      config,
      'restore',
      'share',
      '--path',
      join(src, 'finance/q3.xlsx'),
      '--to',
      one,
    ]);
    expect(p.code, p.stderr).toBe(0);
    const f = (d: string) =>
      execFileSync('getfattr', ['-h', '-d', '-m', '-', '-e', 'base64', 'q3.xlsx'], {
        cwd: join(d, 'finance'),
      }).toString();
    expect(f(join(one, src))).toBe(f(src));
  });

  it('as another user says exactly what it could not apply', async () => {
    const dest = join(work, 'as-nobody');
    mkdirSync(dest);
    chownSync(dest, 65534, 65534);
    chmodSync(work, 0o755);
    const r = await runBo(['--config', config, 'restore', 'share', '--to', dest, '--json'], {
      user: { uid: 65534, gid: 65534 },
      env: { HOME: dest },
    });
    expect(r.code, r.stderr).toBe(0);
    const { warnings } = JSON.parse(r.stdout) as { warnings: string[] };
    expect(warnings).toContainEqual(
      expect.stringMatching(/ping-helper: security\.capability not applied \(only root/),
    );
    expect(warnings).toContainEqual(
      expect.stringMatching(/^owners not restored: \d+ entr.* restore as root/),
    );
    // What a user may set on its own files it did set.
    const got = execFileSync('getfattr', ['-h', '-d', '-m', 'user', 'q3.xlsx'], {
      cwd: join(dest, src, 'finance'),
    }).toString();
    expect(got).toContain('user.comment="quarterly, \\"quoted\\""');
  });
});
