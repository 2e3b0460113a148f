import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.ts';
import { Config, S3Storage } from '../../../src/config/schema.ts';
import { SecretRef, SecretValue } from '../../../src/config/secret.ts';
import { fakeFiles, problemsOf } from './problems.ts';

const VAR = 'BO_TEST_SECRETS_KEY_ID';
afterEach(() => {
  delete process.env[VAR];
});

const s3 = (secret: string) => `
storage:
  s3: { type: s3, bucket: backups, accessKeyId: ${secret} }
`;

describe('secrets', () => {
  it('the schema only names them: parsing reads no environment variable and no file', () => {
    process.env[VAR] = 'AKIAFROMPROCESSENV';
    const parsed = S3Storage.parse({ type: 's3', bucket: 'backups', accessKeyId: { env: VAR } });
    expect(parsed.accessKeyId).toBeInstanceOf(SecretRef);
    expect(parsed.accessKeyId).toEqual(new SecretRef({ env: VAR }));
    const config = Config.parse({
      hosts: { h: { address: 'h', privateKey: '/k', passphrase: { file: '/p' } } },
    });
    expect(config.hosts.h!.passphrase).toEqual(new SecretRef({ file: '/p' }));
  });

  it('load.ts reads them from the sources it is given, not from the process', () => {
    process.env[VAR] = 'AKIAFROMPROCESSENV';
    const c = parseConfig(s3(`{ env: ${VAR} }`), '/etc/bo/bo.yaml', fakeFiles({}, { [VAR]: 'AKIAINJECTED' }));
    const storage = c.storage.s3!;
    if (storage.type !== 's3') throw new Error('type');
    expect(storage.accessKeyId).toBeInstanceOf(SecretValue);
    expect(storage.accessKeyId!.reveal()).toBe('AKIAINJECTED');
  });

  it('two loads with different sources do not see each other’s', () => {
    const a = parseConfig(s3(`{ env: ${VAR} }`), '/a/bo.yaml', fakeFiles({}, { [VAR]: 'A' }));
    const b = parseConfig(s3(`{ env: ${VAR} }`), '/b/bo.yaml', fakeFiles({}, { [VAR]: 'B' }));
    const key = (c: Config) => (c.storage.s3!.type === 's3' ? c.storage.s3!.accessKeyId!.reveal() : '');
    expect([key(a), key(b)]).toEqual(['A', 'B']);
  });

  it('one that cannot be read is a problem at its path, listed beside the schema’s, at every depth', () => {
    const found = problemsOf(`
storage:
  s3: { type: s3, bucket: backups, accessKeyId: { env: NOT_SET }, region: 7 }
jobs:
  db:
    host: local
    paths: [/etc]
    storage: s3
    retries: -1
    dumps: [{ type: postgres, database: app, password: { file: /etc/bo/pg } }]
notify:
  hook: { type: webhook, url: { credential: hook-url }, headers: { Authorization: { env: NO_TOKEN } } }
`);
    expect(found.sort()).toEqual(
      [
        'storage.s3.accessKeyId: environment variable NOT_SET is not set',
        'storage.s3.region: expected a string, got 7',
        'jobs.db.retries: must be at least 0',
        'jobs.db.dumps.0.password: cannot read secret file /etc/bo/pg (ENOENT)',
        'notify.hook.url: credential hook-url: $CREDENTIALS_DIRECTORY is not set (use LoadCredential= in the systemd unit)',
        'notify.hook.headers.Authorization: environment variable NO_TOKEN is not set',
      ].sort(),
    );
  });

  it('a resolved secret never shows in a config error', () => {
    try {
      parseConfig(
        s3('{ file: /etc/bo/key }').replace('bucket: backups', 'bucket: b'),
        '/etc/bo/bo.yaml',
        fakeFiles({ '/etc/bo/key': 'AKIATOPSECRET\n' }),
      );
      expect.unreachable();
    } catch (err) {
      expect(String(err)).toMatch(/storage\.s3\.bucket/);
      expect(JSON.stringify(err)).not.toContain('AKIATOPSECRET');
      expect(String(err)).not.toContain('AKIATOPSECRET');
    }
  });
});
