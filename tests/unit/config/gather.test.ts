import { describe, expect, it } from 'vitest';
import { fakeFiles, problemsOf } from './problems.ts';

describe('one broken config file', () => {
  it('lists every problem of every section in one pass', () => {
    const found = problemsOf(
      `
stateDir: /var/lib/bo
daemon: { concurrency: 0 }
storage:
  fs: { type: filesystem, path: /srv/repo }
  a: { type: sftp, path: /x }
  s3: { type: s3, bucket: backups, accessKeyId: AKIAEXAMPLE }
hosts:
  files1: { address: 10.0.0.5, privateKey: /etc/bo/id_ed25519, hostKey: "SHA256:abc", port: "twentytwo" }
  files2: { address: 10.0.0.6, privateKey: /nonexistent/key, hostKey: "SHA256:abc" }
jobs:
  web1: { host: files1, paths: /srv, storage: fs }
  share: { host: files1, paths: [/srv/share], storage: fss, retries: -1 }
  db:
    host: files1
    paths: [/etc]
    storage: fs
    dumps:
      - { type: postgres, database: app }
      - { type: postgres, database: app, port: "x" }
      - { type: oracle }
  snap: { kind: snapshot, host: files1, provider: lvm, volume: data, retries: -1 }
health:
  checks:
    - { check: tcp, port: 25, banner: "([" , hosts: [files3] }
notify:
  w: { type: webhook, url: "not a url" }
bogus: 1
`,
      fakeFiles({ '/etc/bo/id_ed25519': 'key' }),
    );
    expect(found.sort()).toEqual(
      [
        'bogus: unknown key',
        'daemon.concurrency: must be at least 1',
        'storage.a.type: unknown storage type "sftp" (expected s3 or filesystem)',
        'storage.s3.accessKeyId: secrets must be { env: NAME }, { file: PATH } or { credential: NAME }, not a plain string',
        'hosts.files1.port: expected an integer, got "twentytwo"',
        'hosts.files2.privateKey: cannot read private key /nonexistent/key (ENOENT)',
        'jobs.web1.paths: expected a list of paths, got a string',
        'jobs.share.storage: unknown storage "fss" (did you mean "fs"?)',
        'jobs.share.retries: must be at least 0',
        'jobs.db.dumps.1.port: expected an integer, got "x"',
        'jobs.db.dumps.1.name: two dumps are named "app": give each a distinct name',
        'jobs.db.dumps.2.type: unknown dump type "oracle" (expected postgres, mysql or command)',
        'jobs.snap.retries: must be at least 0',
        'jobs.snap.volume: lvm volume must be VG/LV, e.g. vg0/data; got "data"',
        'health.checks.0.banner: not a valid regular expression: /([/: Unterminated character class',
        'health.checks.0.hosts.0: unknown host "files3" (did you mean "files1"?)',
        'notify.w.url: not a URL: "not a url"',
      ].sort(),
    );
  });

  it('checks the dumps that parsed for duplicate names, even beside a broken one', () => {
    const found = problemsOf(`
storage: { fs: { type: filesystem, path: /srv/repo } }
jobs:
  db:
    host: local
    paths: [/etc]
    storage: fs
    dumps: [{ type: mysql, database: shop }, { type: sqlite }, { type: mysql, database: shop }]
`);
    expect(found).toEqual([
      'jobs.db.dumps.1.type: unknown dump type "sqlite" (expected postgres, mysql or command)',
      'jobs.db.dumps.2.name: two dumps are named "shop": give each a distinct name',
    ]);
  });

  it('says a dumps: that is not a list is wrong, instead of crashing on it', () => {
    const found = (dumps: string) =>
      problemsOf(`
storage: { fs: { type: filesystem, path: /srv/repo } }
jobs:
  db:
    host: local
    paths: [/etc]
    storage: fs
    dumps: ${dumps}
`);
    expect(found('{ type: mysql, database: shop }')).toEqual([
      expect.stringMatching(/^jobs\.db\.dumps: expected .*list/),
    ]);
    expect(found('null')).toEqual([expect.stringMatching(/^jobs\.db\.dumps: expected .*list/)]);
  });
});
