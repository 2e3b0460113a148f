import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shellQuote } from '../../../src/plan/shell.ts';
import { BO_BIN, runBo, writeConfig } from '../../fixtures/bo.ts';
import { hasCommand, missing } from '../../fixtures/require.ts';
import { type SshdFixture, startSshd } from '../../fixtures/sshd.ts';

let root: string;
let sshd: SshdFixture | undefined;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'bo-config-errors-'));
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** A fresh directory holding only bo.yaml; state and repository would be created inside it. */
function configIn(config: (dir: string) => Record<string, unknown>): { dir: string; file: string } {
  const dir = mkdtempSync(join(root, 'cfg-'));
  return { dir, file: writeConfig({ stateDir: join(dir, 'state'), ...config(dir) }, dir) };
}

const NO_STACK = /\n\s+at /;
const REPO = dirname(dirname(BO_BIN));

describe('a broken config through bin/bo', () => {
  it('lists every problem with its path, exits 2 and touches nothing', async () => {
    const { dir, file } = configIn((d) => ({
      storage: {
        repo: { type: 'filesystem', path: join(d, 'repo') },
        odd: { type: 'sftp', path: '/x' },
        s3: { type: 's3', bucket: 'backups', accessKeyId: 'AKIAEXAMPLE' },
      },
      hosts: { files1: { address: '127.0.0.1', port: 'twentytwo', privateKey: join(d, 'absent-key') } },
      jobs: {
        web1: { host: 'files1', paths: '/srv', storage: 'repo' },
        db: {
          host: 'local',
          paths: [d],
          storage: 'repo',
          dumps: [
            { type: 'postgres', database: 'app' },
            { type: 'oracle' },
            { type: 'postgres', database: 'app' },
          ],
        },
        snap: { kind: 'snapshot', host: 'local', provider: 'lvm', volume: 'data' },
        consistent: {
          host: 'local',
          paths: ['/etc'],
          storage: 'repo',
          snapshot: { provider: 'btrfs', volume: '/srv/data' },
        },
      },
      health: { checks: [{ check: 'tcp', port: 25, banner: '([' }] },
    }));
    for (const args of [
      ['config', 'check'],
      ['backup', 'now', '--all'],
    ]) {
      const r = await runBo(['--config', file, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^bo: invalid config .*bo\.yaml \(10 problems\):\n/);
      for (const line of [
        'storage.odd.type: unknown storage type "sftp" (expected s3 or filesystem)',
        'storage.s3.accessKeyId: secrets must be { env: NAME }, { file: PATH } or { credential: NAME }, not a plain string',
        'hosts.files1.port: expected an integer, got "twentytwo"',
        `hosts.files1.privateKey: cannot read private key ${join(dir, 'absent-key')} (ENOENT)`,
        'jobs.web1.paths: expected a list of paths, got a string',
        'jobs.db.dumps.1.type: unknown dump type "oracle" (expected postgres, mysql or command)',
        'jobs.db.dumps.2.name: two dumps are named "app": give each a distinct name',
        'jobs.snap.volume: lvm volume must be VG/LV, e.g. vg0/data; got "data"',
        'jobs.consistent.paths.0: /etc is not on the snapshot volume /srv/data',
        'health.checks.0.banner: not a valid regular expression: /([/: Unterminated character class',
      ]) {
        expect(r.stderr).toContain(`\n  ${line}`);
      }
      expect(r.stderr).not.toMatch(NO_STACK);
      expect(readdirSync(dir)).toEqual(['bo.yaml']);
    }
  });

  it('shows a YAML syntax error with its line and a caret, and says which key an unknown one means', async () => {
    const dir = mkdtempSync(join(root, 'yaml-'));
    const file = join(dir, 'bo.yaml');
    writeFileSync(
      file,
      `storage:\n  repo: { type: filesystem, path: repo }\njobs:\n  web1: { host: local, paths: [/srv], storage: repo }\n  web2: host: local\n`,
    );
    const r = await runBo(['--config', file, 'config', 'check']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      [
        `bo: invalid config ${file} (1 problem):`,
        '  YAML: Nested mappings are not allowed in compact mappings at line 5, column 9:',
        '      web2: host: local',
        '            ^',
        '',
      ].join('\n'),
    );

    writeFileSync(
      file,
      `storage:\n  repo: { type: filesystem, path: repo }\njobs:\n  web1: { host: local, paths: [/srv], storage: repo, compresion: gzip }\n`,
    );
    const typo = await runBo(['--config', file, 'config', 'check']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('\n  jobs.web1.compresion: unknown key (did you mean "compression"?)\n');
    expect(readdirSync(dir)).toEqual(['bo.yaml']);
  });

  it('a private key that does not exist fails the backup at load: exit 2, no _bo/ in the repository', async () => {
    const { dir, file } = configIn((d) => ({
      storage: { repo: { type: 'filesystem', path: join(d, 'repo') } },
      hosts: { files1: { address: '127.0.0.1', privateKey: '/nonexistent/key', hostKey: 'SHA256:abc' } },
      jobs: { share: { host: 'files1', paths: ['/srv'], storage: 'repo' } },
    }));
    mkdirSync(join(dir, 'repo'));
    const r = await runBo(['--config', file, 'backup', 'now', 'share']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('hosts.files1.privateKey: cannot read private key /nonexistent/key (ENOENT)');
    expect(readdirSync(join(dir, 'repo'))).toEqual([]);
    expect(existsSync(join(dir, 'state'))).toBe(false);
  });

  it('bo hosts trust creates a missing known_hosts; an unreadable one is a config error', async ({
    skip,
  }) => {
    if (!sshd) return skip();
    const { hostKey: _pin, ...unpinned } = sshd.hostConfig();
    const { dir, file } = configIn((d) => ({
      hosts: { files1: { ...unpinned, knownHosts: join(d, 'known_hosts') } },
    }));
    expect((await runBo(['--config', file, 'config', 'check'])).code).toBe(0);
    const trust = await runBo([
      '--config',
      file,
      'hosts',
      'trust',
      'files1',
      '--fingerprint',
      sshd.hostKeyFingerprint,
    ]);
    expect(trust.stderr).toBe('');
    expect(trust.code).toBe(0);
    expect(existsSync(join(dir, 'known_hosts'))).toBe(true);
    expect((await runBo(['--config', file, 'hosts', 'check'])).code).toBe(0);

    const broken = configIn((d) => {
      mkdirSync(join(d, 'known_hosts'));
      return { hosts: { files1: { ...unpinned, knownHosts: join(d, 'known_hosts') } } };
    });
    for (const args of [
      ['config', 'check'],
      ['hosts', 'trust', 'files1'],
    ]) {
      const r = await runBo(['--config', broken.file, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `hosts.files1.knownHosts: cannot read known_hosts file ${join(broken.dir, 'known_hosts')} (EISDIR)`,
      );
    }
  });
});

describe('names on the command line that the config does not define', () => {
  it('are usage errors naming what is configured, never "this is a bug"', async () => {
    const { file } = configIn((d) => ({
      storage: { repo: { type: 'filesystem', path: join(d, 'repo') } },
      hosts: sshd ? { files1: sshd.hostConfig() } : {},
      jobs: { share: { host: 'local', paths: [d], storage: 'repo' } },
    }));
    const cases: Array<[string[], RegExp]> = [
      [['locks', '--storage', 'nosuch'], /^bo: unknown storage "nosuch"\nhint: configured storage: repo\n$/],
      [['list', '--storage', 'nosuch'], /^bo: unknown storage "nosuch"\nhint: configured storage: repo\n$/],
      [['backup', 'now', 'nosuch'], /^bo: unknown job "nosuch"/],
      [['prune', 'nosuch'], /^bo: unknown job "nosuch"/],
      [['drill', 'nosuch'], /^bo: unknown job "nosuch"/],
      [['snapshot', 'now', 'nosuch'], /^bo: unknown job "nosuch"/],
      [['hosts', 'trust', 'nosuch'], /^bo: unknown host/],
      [['hosts', 'check', 'nosuch'], /^bo: unknown host/],
      [['snapshots', 'nosuch'], /^bo: unknown host/],
      [['health', 'nosuch'], /^bo: unknown host/],
      [['restore', 'share', '--to-host', 'nosuch:/tmp/x'], /^bo: unknown host "nosuch" in --to-host/],
    ];
    for (const [args, stderr] of cases) {
      const r = await runBo(['--config', file, ...args]);
      // `bo health` is a Nagios probe: its usage errors are UNKNOWN (3), not CRITICAL (2).
      const code = args[0] === 'health' ? 3 : 2;
      expect({ args, code: r.code, stderr: r.stderr }).toMatchObject({ args, code });
      expect(r.stderr, args.join(' ')).toMatch(stderr);
      expect(r.stderr, args.join(' ')).not.toMatch(/this is a bug/);
    }
  });
});

describe('no config anywhere', () => {
  /** bo's package as `npm install` leaves it outside a checkout: no .git beside package.json. */
  function installedCopy(): string {
    const pkg = join(mkdtempSync(join(root, 'opt-')), 'bo');
    for (const part of ['bin', 'src', 'config', 'examples', 'package.json'])
      cpSync(join(REPO, part), join(pkg, part), { recursive: true });
    symlinkSync(join(REPO, 'node_modules'), join(pkg, 'node_modules'));
    return pkg;
  }

  it('an installed copy refuses (exit 2, with a hint) instead of backing up its own example', async () => {
    const pkg = installedCopy();
    const before = readdirSync(pkg).sort();
    const cwd = mkdtempSync(join(root, 'cwd-'));
    for (const args of [
      ['config', 'check'],
      ['backup', 'now', '--all'],
    ]) {
      const r = await runBo(args, { cwd, env: { BO_CONFIG: '' }, bin: join(pkg, 'bin', 'bo') });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toBe(
        'bo: no config found (looked for --config, $BO_CONFIG, /etc/bo/bo.yaml and ./bo.yaml)\n' +
          `hint: create /etc/bo/bo.yaml (or pass --config FILE), e.g. from the shipped example: cp ${join(pkg, 'config', 'bo.example.yaml')} /etc/bo/bo.yaml\n`,
      );
    }
    expect(readdirSync(pkg).sort()).toEqual(before);
    expect(readdirSync(cwd)).toEqual([]);

    // The same files with a .git beside package.json are a source checkout: the example applies.
    mkdirSync(join(pkg, '.git'));
    const r = await runBo(['config', 'check'], { cwd, env: { BO_CONFIG: '' }, bin: join(pkg, 'bin', 'bo') });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`config ${join(pkg, 'config', 'bo.example.yaml')} (shipped example) is valid`);
  });

  it('an empty config file is an error, not a config without jobs', async () => {
    const dir = mkdtempSync(join(root, 'empty-'));
    for (const text of ['', '# jobs: {}\n', '---\n']) {
      writeFileSync(join(dir, 'bo.yaml'), text);
      const r = await runBo(['--config', join(dir, 'bo.yaml'), 'config', 'check']);
      expect(r.code, JSON.stringify(text)).toBe(2);
      expect(r.stderr).toContain('the config is empty');
      expect(r.stdout).toBe('');
    }
  });

  it('uses the shipped example with a warning on stderr', async () => {
    const cwd = mkdtempSync(join(root, 'cwd-'));
    writeFileSync(join(cwd, 'unrelated.yaml'), 'x: 1\n');
    const r = await runBo(['config', 'check'], { cwd, env: { BO_CONFIG: '' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('(shipped example) is valid');
    const warning = JSON.parse(r.stderr.trim().split('\n')[0]!) as { level: number; msg: string };
    expect(warning).toMatchObject({
      level: 40,
      msg: expect.stringMatching(/^No config found: using the shipped example/),
    });
  });

  it('shows the warning at a terminal too, where info lines are hidden', async ({ skip }) => {
    if (missing('script (a pseudo-terminal)', hasCommand('script'), 'Debian package bsdutils')) return skip();
    const cwd = mkdtempSync(join(root, 'tty-'));
    const out = execFileSync(
      'script',
      ['-qec', `${shellQuote(process.execPath)} ${shellQuote(BO_BIN)} config check`, '/dev/null'],
      {
        cwd,
        env: { ...withoutLogLevel(process.env), BO_CONFIG: '' },
        encoding: 'utf8',
      },
    );
    expect(out).toMatch(/^warning: No config found: using the shipped example config/m);
  });
});

/** The terminal's own default level (warn) applies only when BO_LOG_LEVEL is not set at all. */
function withoutLogLevel(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { BO_LOG_LEVEL: _level, ...rest } = env;
  return rest;
}
