import { describe, expect, it } from 'vitest';
import { parseResolved } from '../../../src/config/resolve-secrets.ts';
import { Dump, Job } from '../../../src/config/schema.ts';
import { SecretValue } from '../../../src/config/secret.ts';
import {
  classifyDumpResult,
  dumpClientCommand,
  dumpObjectName,
  planDump,
  restorePlan,
} from '../../../src/plan/dumps.ts';

const zstdRemote = { compression: 'zstd' as const, compressRemotely: true, encrypted: false };

describe('dump command plans', () => {
  it('dumps one PostgreSQL database as plain SQL, never prompting for a password', () => {
    const d = parseResolved(Dump, {
      type: 'postgres',
      database: 'app',
      hostname: '/run/postgresql',
      port: 5433,
      username: 'backup',
    });
    expect(dumpClientCommand(d)).toBe(
      'pg_dump --format=plain --no-password --host=/run/postgresql --port=5433 --username=backup --dbname=app',
    );
    expect(
      dumpClientCommand(
        parseResolved(Dump, { type: 'postgres', runAs: 'postgres', bin: '/usr/lib/postgresql/15/bin/' }),
      ),
    ).toBe('runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_dumpall --no-password');
  });

  it('dumps MySQL/MariaDB consistently (one transaction), one database or all', () => {
    expect(
      dumpClientCommand(
        parseResolved(Dump, { type: 'mysql', database: 'shop', username: 'bk', options: ['--hex-blob'] }),
      ),
    ).toBe('mysqldump --single-transaction --routines --user=bk --hex-blob shop');
    expect(dumpClientCommand(parseResolved(Dump, { type: 'mysql' }))).toBe(
      'mysqldump --single-transaction --routines --all-databases',
    );
    expect(
      dumpClientCommand(parseResolved(Dump, { type: 'mysql', database: 'shop', hostname: '/run/my.sock' })),
    ).toBe('mysqldump --single-transaction --routines --socket=/run/my.sock shop');
    expect(
      dumpClientCommand(
        parseResolved(Dump, { type: 'mysql', database: 'shop', hostname: 'db1', port: 3307 }),
      ),
    ).toBe('mysqldump --single-transaction --routines --host=db1 --port=3307 shop');
  });

  it('compresses on the server and reports both exit statuses', () => {
    const p = planDump(parseResolved(Dump, { type: 'postgres', database: 'app' }), zstdRemote);
    expect(p.command).toBe(
      '( ( pg_dump --format=plain --no-password --dbname=app ); echo "bo-dump-exit=$?" >&2 ) | zstd -q -c -3 -T0; s=$?; echo "bo-zstd-exit=$s" >&2; exit $s',
    );
    expect(p).toMatchObject({
      name: 'app',
      objectName: 'dump-app.sql.zst',
      compressRemotely: true,
      input: undefined,
    });
  });

  it('streams raw output when bo compresses locally', () => {
    const p = planDump(parseResolved(Dump, { type: 'command', name: 'ldap', command: 'slapcat -n 1' }), {
      ...zstdRemote,
      compressRemotely: false,
      encrypted: true,
    });
    expect(p.command).toBe('( slapcat -n 1 ); s=$?; echo "bo-dump-exit=$s" >&2; exit $s');
    expect(p.objectName).toBe('dump-ldap.sql.zst.age');
  });

  it('hands the password over stdin, never on the command line', () => {
    const d = {
      ...parseResolved(Dump, { type: 'postgres', database: 'app' }),
      password: new SecretValue('s3cr3t $(x)', 'test'),
    } as Dump;
    const p = planDump(d, zstdRemote);
    expect(p.command).not.toContain('s3cr3t');
    expect(p.command.startsWith('IFS= read -r PGPASSWORD || exit 97; export PGPASSWORD; ')).toBe(true);
    expect(p.input).toBe('s3cr3t $(x)\n');
    const m = {
      ...parseResolved(Dump, { type: 'mysql', database: 'shop' }),
      password: new SecretValue('pw', 'test'),
    } as Dump;
    expect(planDump(m, zstdRemote).command).toContain('read -r MYSQL_PWD');
  });

  it('names objects after the job compression and encryption', () => {
    expect(dumpObjectName('app', 'zstd', false)).toBe('dump-app.sql.zst');
    expect(dumpObjectName('app', 'gzip', true)).toBe('dump-app.sql.gz.age');
    expect(dumpObjectName('app', 'none', false)).toBe('dump-app.sql');
  });

  it('restores into psql inside a transaction bo commits, stopping at the first error', () => {
    const d = parseResolved(Dump, { type: 'postgres', database: 'app', runAs: 'postgres' });
    expect(restorePlan(d, 'app_copy')).toEqual({
      command:
        '( runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 --no-password --dbname=app_copy ); s=$?; echo "bo-dump-exit=$s" >&2; exit $s',
      prologue: 'BEGIN;\n',
      epilogue: '\nCOMMIT;\n',
    });
    // pg_dumpall scripts create databases: no transaction around them.
    expect(restorePlan(parseResolved(Dump, { type: 'postgres' }), undefined)).toEqual({
      command:
        '( psql -X -q -v ON_ERROR_STOP=1 --no-password --dbname=postgres ); s=$?; echo "bo-dump-exit=$s" >&2; exit $s',
      prologue: '',
      epilogue: '',
    });
    expect(
      restorePlan(parseResolved(Dump, { type: 'mysql', database: 'shop' }), undefined)?.command,
    ).toContain('( mysql shop )');
    expect(
      restorePlan(parseResolved(Dump, { type: 'command', name: 'x', command: 'a' }), undefined),
    ).toBeUndefined();
    expect(
      restorePlan(
        parseResolved(Dump, { type: 'command', name: 'x', command: 'a', restore: 'slapadd -n 1' }),
        undefined,
      )?.command,
    ).toBe('( slapadd -n 1 ); s=$?; echo "bo-dump-exit=$s" >&2; exit $s');
  });
});

describe('dump results', () => {
  const ok = { code: 0, signal: null };
  it('passes only when the client and the compressor both exited 0', () => {
    expect(classifyDumpResult('bo-dump-exit=0\nbo-zstd-exit=0\n', ok).ok).toBe(true);
    expect(
      classifyDumpResult('pg_dump: error: connection failed\nbo-dump-exit=1\nbo-zstd-exit=0\n', ok),
    ).toEqual({
      ok: false,
      message: 'the dump command exited 1: pg_dump: error: connection failed',
    });
    expect(classifyDumpResult('bo-dump-exit=0\nbo-zstd-exit=1\n', { code: 1, signal: null }).message).toMatch(
      /zstd failed/,
    );
  });

  it('fails a dump that was killed before reporting', () => {
    expect(classifyDumpResult('', { code: null, signal: 'KILL' }).message).toBe(
      'the dump command did not finish (killed by KILL)',
    );
  });
});

describe('dump config', () => {
  it('needs distinct, usable names', () => {
    const job = (dumps: unknown[]) => Job.safeParse({ host: 'local', paths: ['/srv'], storage: 's', dumps });
    const dup = job([
      { type: 'postgres', database: 'app' },
      { type: 'mysql', database: 'app' },
    ]);
    expect(dup.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['dumps.1.name', 'two dumps are named "app": give each a distinct name'],
    ]);
    const odd = job([{ type: 'postgres', database: 'my app' }]);
    expect(odd.error?.issues[0]?.message).toMatch(/not usable as an object name/);
    expect(job([{ type: 'postgres', database: 'my app', name: 'app' }]).success).toBe(true);
  });
});
