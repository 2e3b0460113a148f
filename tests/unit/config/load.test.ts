import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.ts';
import { locateConfig, PACKAGE_ROOT } from '../../../src/config/locate.ts';
import { ConfigError, UsageError } from '../../../src/errors.ts';
import { fakeFiles, problemsOf } from './problems.ts';

const secrets = fakeFiles(
  { '/etc/bo/s3-secret': 'verysecret\n', '/etc/bo/id_ed25519': 'key', '/k': 'key' },
  { BO_S3_ACCESS_KEY_ID: 'AKIAEXAMPLE' },
);

const good = `
storage:
  offsite:
    type: s3
    endpoint: http://127.0.0.1:9000
    bucket: backups
    prefix: bo/
    forcePathStyle: true
    accessKeyId: { env: BO_S3_ACCESS_KEY_ID }
    secretAccessKey: { file: /etc/bo/s3-secret }
  local: { type: filesystem, path: repo }
hosts:
  files1: { address: 10.0.0.5, user: backup, privateKey: /etc/bo/id_ed25519, hostKey: "SHA256:abc" }
jobs:
  files1-share:
    host: files1
    paths: [/srv/share, /etc]
    exclude: ["*.tmp", /srv/share/cache]
    storage: offsite
    encryption: { recipients: ["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"] }
    retries: 2
    retryDelay: 30s
`;

const problems = (text: string) => problemsOf(text, secrets);

describe('parseConfig', () => {
  it('accepts the documented shape, applies defaults and resolves secrets', () => {
    const c = parseConfig(good, '/etc/bo/bo.yaml', secrets);
    const job = c.jobs['files1-share']!;
    expect(job.kind).toBe('backup');
    if (job.kind !== 'backup') throw new Error('kind');
    expect(job.compression).toBe('zstd');
    expect(job.retryDelay).toBe(30_000);
    const s3 = c.storage.offsite!;
    if (s3.type !== 's3') throw new Error('type');
    expect(s3.secretAccessKey?.reveal()).toBe('verysecret');
    expect(JSON.stringify(s3)).not.toContain('verysecret');
    expect(String(s3.accessKeyId)).toBe('[redacted]');
    expect(c.hosts.files1!.port).toBe(22);
    expect(c.storage.local).toEqual({ type: 'filesystem', path: '/etc/bo/repo', volumeSize: 4 * 1024 ** 3 });
  });

  it('lists every problem with its path', () => {
    const found = problems(`
storage:
  offsite: { type: s3, bucket: backups, secretAccessKey: { file: /missing }, bogus: 1 }
hosts:
  files1: { address: 10.0.0.5, privateKey: /k, port: "22x" }
jobs:
  files1-share: { host: files1, storage: ofsite, paths: [srv] }
  web1: { host: nope, storage: offsite, compression: lz4 }
`);
    expect(found).toEqual(
      expect.arrayContaining([
        'storage.offsite.secretAccessKey: cannot read secret file /missing (ENOENT)',
        'storage.offsite.bogus: unknown key',
        'jobs.web1.paths: required',
        'jobs.files1-share.storage: unknown storage "ofsite" (did you mean "offsite"?)',
        'jobs.files1-share.paths.0: remote paths must be absolute, got "srv"',
        'jobs.web1.host: unknown host "nope" (known: files1)',
      ]),
    );
    expect(found).toContain('hosts.files1.port: expected an integer, got "22x"');
    expect(found).toContain('jobs.web1.compression: expected one of zstd, gzip or none, got "lz4"');
  });

  it('reports YAML syntax errors as config errors', () => {
    expect(problems('jobs: [unclosed')[0]).toMatch(/^: YAML/);
  });

  it('refuses an empty config: an empty file, only comments, only a document marker', () => {
    for (const text of [
      '',
      '\n  \n',
      '# all commented out\n# jobs: {}\n',
      '---\n',
      '--- # nothing\n...\n',
      '~\n',
    ]) {
      expect(problems(text), JSON.stringify(text)).toEqual([
        ': the config is empty (no keys, only comments or ---): bo would have no storage, hosts or jobs',
      ]);
    }
  });

  it('shows a YAML syntax error where it is: the line and a caret under the column', () => {
    const text = `storage:
  fs: { type: filesystem, path: /srv/repo }
jobs:
  web1: { host: local, paths: [/srv], storage: fs }
  web2: host: local
`;
    expect(problems(text)).toEqual([
      [
        ': YAML: Nested mappings are not allowed in compact mappings at line 5, column 9:',
        '  web2: host: local',
        '        ^',
      ].join('\n'),
    ]);
  });

  it('rejects a missing environment secret and a bad duration', () => {
    const found = problems(`
storage:
  s: { type: s3, bucket: bbb, accessKeyId: { env: NOT_SET } }
jobs:
  j: { host: local, paths: [/x], storage: s, retryDelay: soon }
`);
    expect(found).toContain('storage.s.accessKeyId: environment variable NOT_SET is not set');
    expect(found.some((p) => p.startsWith('jobs.j.retryDelay: invalid duration'))).toBe(true);
  });

  it('the error message names the file and counts problems', () => {
    try {
      parseConfig('jobs: { j: { host: local } }', '/x/bo.yaml', secrets);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).exitCode).toBe(2);
      expect((err as Error).message).toMatch(/^invalid config \/x\/bo\.yaml \(\d+ problems\):/);
    }
  });
});

describe('locateConfig', () => {
  it('prefers --config, then BO_CONFIG, then /etc/bo/bo.yaml, then ./bo.yaml, then the example', () => {
    const exists = (p: string) => ['/a.yaml', '/etc/bo/bo.yaml'].includes(p);
    expect(locateConfig({ flag: '/a.yaml', env: { BO_CONFIG: '/b.yaml' }, exists }).file).toBe('/a.yaml');
    expect(() => locateConfig({ env: { BO_CONFIG: '/b.yaml' }, exists })).toThrow(UsageError);
    expect(locateConfig({ env: {}, exists }).file).toBe('/etc/bo/bo.yaml');
    const checkout = (p: string) => p === join(PACKAGE_ROOT, '.git');
    expect(locateConfig({ env: {}, exists: checkout }).embedded).toBe(true);
  });

  it('falls back to the shipped example only in a source checkout; an installed copy refuses', () => {
    let err: unknown;
    try {
      locateConfig({ env: {}, exists: () => false });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    expect((err as UsageError).message).toBe(
      'no config found (looked for --config, $BO_CONFIG, /etc/bo/bo.yaml and ./bo.yaml)',
    );
    expect((err as UsageError).hint).toContain(join(PACKAGE_ROOT, 'config', 'bo.example.yaml'));
  });
});
