import { describe, expect, it } from 'vitest';
import { problemsOf } from './problems.ts';

/** Ends in the storage section, so a test can append storage entries. */
const base = `
hosts:
  files1: { address: 10.0.0.5, privateKey: /etc/bo/id_ed25519, hostKey: "SHA256:abc" }
storage:
  fs: { type: filesystem, path: /srv/repo }
`;

describe('config problem messages', () => {
  it('say which type was expected and what was found, not "required"', () => {
    const found = problemsOf(`
hosts:
  files1: { address: 10.0.0.5, privateKey: /etc/bo/id_ed25519, hostKey: 5, port: "twentytwo", sudo: "yes" }
  files2: { address: 10.0.0.6, privateKey: /etc/bo/id_ed25519, hostKey: "SHA256:abc", port: 22.5 }
storage:
  fs: { type: filesystem, path: /srv/repo }
jobs:
  j: { host: files1, paths: /srv, exclude: "*.tmp", storage: fs, retries: "3", compression: lz4, notify: }
`);
    expect(found).toEqual(
      expect.arrayContaining([
        'hosts.files1.port: expected an integer, got "twentytwo"',
        'hosts.files1.sudo: expected true or false, got "yes"',
        'hosts.files1.hostKey: expected a string or a list, got 5',
        'hosts.files2.port: expected an integer, got 22.5',
        'jobs.j.paths: expected a list of paths, got a string',
        'jobs.j.exclude: expected a list of paths or globs, got a string',
        'jobs.j.retries: expected an integer, got "3"',
        'jobs.j.compression: expected one of zstd, gzip or none, got "lz4"',
        'jobs.j.notify: expected a list, got an empty value',
      ]),
    );
    expect(found.filter((p) => p.endsWith(': required'))).toEqual([]);
  });

  it('still say "required" for a missing key', () => {
    expect(problemsOf(`${base}jobs:\n  j: { host: files1, storage: fs }\n`)).toEqual([
      'jobs.j.paths: required',
    ]);
  });

  it('name the unknown tag once, with the choices', () => {
    const found = problemsOf(`${base}
  a: { type: sftp, path: /x }
  b: { path: /x }
jobs:
  x: { host: files1, paths: [/srv], storage: fs, dumps: [{ type: postgres }, { type: mysql }, { type: oracle }] }
  k: { kind: nightly }
health:
  checks: [{ check: ping }]
notify:
  n: { type: pager }
`);
    expect(found).toEqual(
      expect.arrayContaining([
        'storage.a.type: unknown storage type "sftp" (expected s3 or filesystem)',
        'storage.b.type: required (s3 or filesystem)',
        'jobs.x.dumps.2.type: unknown dump type "oracle" (expected postgres, mysql or command)',
        'jobs.k.kind: unknown job kind "nightly" (expected backup, health, prune, verify, drill or snapshot)',
        expect.stringMatching(
          /^health\.checks\.0\.check: unknown check "ping" \(expected disk, inodes, .* or [a-z-]+\)$/,
        ),
        'notify.n.type: unknown notifier type "pager" (expected webhook, email or healthchecks)',
      ]),
    );
    expect(found.filter((p) => /\.(type|kind|check)\.(type|kind|check):/.test(p))).toEqual([]);
  });

  it('tell how secrets are written', () => {
    const found = problemsOf(`${base}
  s3: { type: s3, bucket: backups, accessKeyId: AKIAEXAMPLE, secretAccessKey: { envv: S3_SECRET } }
`);
    expect(found).toEqual([
      'storage.s3.accessKeyId: secrets must be { env: NAME }, { file: PATH } or { credential: NAME }, not a plain string',
      'storage.s3.secretAccessKey: secrets must be { env: NAME }, { file: PATH } or { credential: NAME }',
    ]);
  });

  it('give ranges and formats in words', () => {
    const found = problemsOf(`
storage:
  fs: { type: filesystem, path: /srv/repo }
hosts:
  files1: { address: 10.0.0.5, privateKey: /etc/bo/id_ed25519, hostKey: "SHA256:abc" }
  files3: { address: 10.0.0.8, privateKey: /etc/bo/id_ed25519, hostKey: "SHA256:abc", port: 0, connectTimeout: -5 }
jobs:
  j: { host: files1, paths: [], storage: fs, retries: 99 }
notify:
  w: { type: webhook, url: "not a url" }
`);
    expect(found).toEqual(
      expect.arrayContaining([
        'hosts.files3.port: must be at least 1',
        'hosts.files3.connectTimeout: must be at least 0',
        'jobs.j.paths: must not be empty',
        'jobs.j.retries: must be at most 20',
        'notify.w.url: not a URL: "not a url"',
      ]),
    );
  });
});
