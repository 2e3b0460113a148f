import { describe, expect, it } from 'vitest';
import { problemsOf } from './problems.ts';

const base = 'storage: { fs: { type: filesystem, path: /srv/repo } }\n';

describe('an unknown key', () => {
  it('gets a did-you-mean with its full path, at every level of the schema', () => {
    const found = problemsOf(`
stateDirr: /var/lib/bo
daemon: { concurency: 2, http: { enabeld: true } }
hosts:
  files1: { address: 10.0.0.5, privatekey: /etc/bo/id_ed25519, hostKey: "SHA256:abc" }
storage:
  fs: { type: filesystem, path: /srv/repo }
  s3: { type: s3, bucket: backups, storageclass: STANDARD_IA }
jobs:
  web1:
    host: files1
    paths: [/srv]
    storage: fs
    compresion: zstd
    retention: { dayly: 7 }
    snapshot: { provider: btrfs, volume: /srv, nestd: skip }
    dumps: [{ type: postgres, databse: app }]
    before: [{ command: "true", timout: 5s }]
    encryption: { recipient: [] }
  prune: { kind: prune, garbageage: 1d }
  snap: { kind: snapshot, host: files1, provider: btrfs, volume: /srv, snapshotdir: /srv/.s }
health:
  checks: [{ check: tcp, port: 25, bannr: "^220" }]
  debunce: 3
notify:
  mail: { type: email, host: smtp, from: a@b.c, to: [x@y.z], requireTLS: true }
`);
    expect(found.sort()).toEqual(
      [
        'stateDirr: unknown key (did you mean "stateDir"?)',
        'daemon.concurency: unknown key (did you mean "concurrency"?)',
        'daemon.http.enabeld: unknown key (did you mean "enabled"?)',
        'hosts.files1.privatekey: unknown key (did you mean "privateKey"?)',
        'hosts.files1.privateKey: required',
        'storage.s3.storageclass: unknown key (did you mean "storageClass"?)',
        'jobs.web1.compresion: unknown key (did you mean "compression"?)',
        'jobs.web1.retention.dayly: unknown key (did you mean "daily"?)',
        'jobs.web1.retention: give at least one rule: last, hourly, daily, weekly, monthly, yearly or within',
        'jobs.web1.snapshot.nestd: unknown key (did you mean "nested"?)',
        'jobs.web1.dumps.0.databse: unknown key (did you mean "database"?)',
        'jobs.web1.before.0.timout: unknown key (did you mean "timeout"?)',
        'jobs.web1.encryption.recipient: unknown key (did you mean "recipients"?)',
        'jobs.web1.encryption.recipients: required',
        'jobs.prune.garbageage: unknown key (did you mean "garbageAge"?)',
        'jobs.snap.snapshotdir: unknown key (did you mean "snapshotDir"?)',
        'health.checks.0.bannr: unknown key (did you mean "banner"?)',
        'health.debunce: unknown key (did you mean "debounce"?)',
        'notify.mail.requireTLS: unknown key (did you mean "requireTls"?)',
      ].sort(),
    );
  });

  it('suggests a key of the job’s own kind, not one of another kind', () => {
    // `sample` belongs to verify and drill jobs; a prune job does not have it.
    expect(problemsOf(`${base}jobs:\n  p: { kind: prune, sampel: 10% }\n`)).toEqual([
      'jobs.p.sampel: unknown key',
    ]);
    expect(problemsOf(`${base}jobs:\n  v: { kind: verify, sampel: 10% }\n`)).toEqual([
      'jobs.v.sampel: unknown key (did you mean "sample"?)',
    ]);
  });

  it('stays plain when nothing is close, and every unknown key of one map is listed', () => {
    expect(
      problemsOf(
        `${base}jobs:\n  j: { host: local, paths: [/srv], storage: fs, bogus: 1, compresion: gzip }\n`,
      ),
    ).toEqual(['jobs.j.bogus: unknown key', 'jobs.j.compresion: unknown key (did you mean "compression"?)']);
  });
});
