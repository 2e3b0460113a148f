import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import { type PostgresFixture, startPostgres } from '../../fixtures/postgres.ts';
import { type SshdFixture, startSshd } from '../../fixtures/sshd.ts';

const CHECKSUM = "SELECT count(*) || ':' || md5(string_agg(t::text, ',' ORDER BY id)) FROM t";

/**
 * Database dumps for real: PostgreSQL 15 on a unix socket, dumped over the loopback sshd
 * (pg_dump runs on the "server", as the postgres user), streamed into filesystem storage, and
 * restored into a fresh database through `bo restore --dump`.
 */
describe('PostgreSQL dumps over SSH', () => {
  let pg: PostgresFixture | undefined;
  let sshd: SshdFixture | undefined;
  let work: string;
  let repo: string;
  let config: string;
  let identity: string;
  let recipient: string;

  beforeAll(async () => {
    pg = startPostgres();
    sshd = await startSshd();
    if (!pg || !sshd) return;
    work = mkdtempSync(join(tmpdir(), 'bo-dumps-'));
    repo = join(work, 'repo');
    mkdirSync(join(work, 'files'));
    writeFileSync(join(work, 'files', 'a.txt'), 'files beside the dump\n');
    pg.psql('CREATE DATABASE app');
    pg.psql(
      `CREATE TABLE t (id serial PRIMARY KEY, v text, n numeric, at timestamptz);
       INSERT INTO t (v, n, at) SELECT 'row ' || i || ' ünïcødé ''quoted''', i * 1.5, '2026-01-01'::timestamptz + i * interval '1 hour' FROM generate_series(1, 2000) i;
       INSERT INTO t (v, n, at) VALUES (NULL, NULL, NULL);`,
      'app',
    );
    identity = join(work, 'key.txt');
    execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
    recipient = /public key: (age1\w+)/.exec(readFileSync(identity, 'utf8'))![1]!;
    const dump = { type: 'postgres', database: 'app', ...pg.client() };
    config = writeConfig(
      {
        stateDir: join(work, 'state'),
        storage: { repo: { type: 'filesystem', path: repo } },
        hosts: { db1: sshd.hostConfig() },
        jobs: {
          db: { host: 'db1', paths: [join(work, 'files')], storage: 'repo', dumps: [dump] },
          sealed: {
            host: 'db1',
            paths: [join(work, 'files')],
            storage: 'repo',
            dumps: [dump],
            encryption: { recipients: [recipient] },
          },
          broken: {
            host: 'db1',
            paths: [join(work, 'files')],
            storage: 'repo',
            dumps: [
              dump,
              {
                type: 'command',
                name: 'half',
                command:
                  "printf 'CREATE TABLE half (x int);\\n'; sleep 0.2; echo 'pg_dump: error: connection lost' >&2; exit 3",
              },
            ],
          },
          nodb: {
            host: 'db1',
            paths: [join(work, 'files')],
            storage: 'repo',
            dumps: [{ ...dump, database: 'nope' }],
          },
        },
      },
      work,
    );
  });

  afterAll(async () => {
    pg?.stop();
    await sshd?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const bo = (...args: string[]) => runBo(['--config', config, ...args]);

  function manifestOf(job: string): {
    id: string;
    dumps: Array<{
      name: string;
      type: string;
      database?: string;
      object: { key: string; size: number; sha256: string };
    }>;
  } {
    const [id] = readdirSync(join(repo, job)).filter((d) => /^\d{8}T/.test(d));
    return { id: id!, ...JSON.parse(readFileSync(join(repo, job, id!, 'manifest.json'), 'utf8')) };
  }

  it('streams the dump into its own object, recorded in the manifest with its SHA-256', async (t) => {
    if (!pg || !sshd) return t.skip();
    const r = await bo('backup', 'now', 'db');
    expect(r.stdout).toMatch(/^ok {6}db /);
    expect(r.code).toBe(0);
    const m = manifestOf('db');
    expect(m.dumps).toEqual([
      {
        name: 'app',
        type: 'postgres',
        database: 'app',
        object: { key: 'dump-app.sql.zst', size: expect.any(Number), sha256: expect.any(String) },
      },
    ]);
    const stored = readFileSync(join(repo, 'db', m.id, 'dump-app.sql.zst'));
    expect(stored.length).toBe(m.dumps[0]!.object.size);
    expect(createHash('sha256').update(stored).digest('hex')).toBe(m.dumps[0]!.object.sha256);
    // Restorable without bo: zstd -d | psql.
    const sql = execFileSync('zstd', ['-d', '-c'], { input: stored }).toString();
    expect(sql).toContain('CREATE TABLE public.t');
    pg!.psql('CREATE DATABASE by_hand');
    execFileSync(
      'sh',
      [
        '-c',
        `zstd -d -c | runuser -u postgres -- ${pg!.bin}/psql -X -q -h ${pg!.socketDir} -p ${pg!.port} -d by_hand`,
      ],
      { input: stored, stdio: ['pipe', 'ignore', 'pipe'] },
    );
    expect(pg!.psql(CHECKSUM, 'by_hand')).toBe(pg!.psql(CHECKSUM, 'app'));
  });

  it('restores the dump into a fresh database on a host: same checksum', async (t) => {
    if (!pg || !sshd) return t.skip();
    pg!.psql('CREATE DATABASE restored');
    const r = await bo(
      'restore',
      'db',
      '--dump',
      'app',
      '--to-host',
      'db1',
      '--into-db',
      'restored',
      '--json',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      dump: 'app',
      target: 'db1 (database restored)',
      verified: true,
    });
    expect(pg!.psql(CHECKSUM, 'restored')).toBe(pg!.psql(CHECKSUM, 'app'));
    expect(pg!.psql(CHECKSUM, 'app')).toMatch(/^2001:[0-9a-f]{32}$/);

    // Again into the same database: psql stops at the first error and nothing is committed.
    pg!.psql("INSERT INTO t (v) VALUES ('added after the restore')", 'restored');
    const before = pg!.psql(CHECKSUM, 'restored');
    const again = await bo('restore', 'db', '--dump', 'app', '--to-host', 'db1', '--into-db', 'restored');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/the restore client exited 3: .*relation "t" already exists/);
    expect(pg!.psql(CHECKSUM, 'restored')).toBe(before);
  });

  it('refuses to apply a corrupted dump, leaving the target untouched', async (t) => {
    if (!pg || !sshd) return t.skip();
    const m = manifestOf('db');
    const file = join(repo, 'db', m.id, 'dump-app.sql.zst');
    const good = readFileSync(file);
    const bad = Buffer.from(good);
    bad[bad.length - 20]! ^= 0xff;
    writeFileSync(file, bad);
    try {
      pg!.psql('CREATE DATABASE victim');
      const r = await bo('restore', 'db', '--dump', 'app', '--to-host', 'db1', '--into-db', 'victim');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /restore of dump app to db1 \(database victim\) FAILED: .*(corrupt|checksum).*The transaction was not committed/,
      );
      expect(pg!.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", 'victim')).toBe('0');
    } finally {
      writeFileSync(file, good);
    }
  });

  it('writes the plain SQL to a file, and refuses to overwrite it without --force', async (t) => {
    if (!pg || !sshd) return t.skip();
    const out = join(work, 'app.sql');
    const r = await bo('restore', 'db', '--dump', 'app', '--to', out);
    expect(r.code).toBe(0);
    const m = manifestOf('db');
    const expected = execFileSync('zstd', ['-d', '-c', join(repo, 'db', m.id, 'dump-app.sql.zst')]);
    expect(readFileSync(out).equals(expected)).toBe(true);
    const stdout = await runBo(['--config', config, 'restore', 'db', '--dump', 'app', '--to', '-']);
    expect(stdout.code).toBe(0);
    expect(stdout.stdout).toBe(expected.toString());
    const again = await bo('restore', 'db', '--dump', 'app', '--to', out);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists; pass --force/);
    const noTarget = await bo('restore', 'db', '--dump', 'app');
    expect(noTarget.code).toBe(2);
    expect(noTarget.stderr).toMatch(
      /give exactly one of --to FILE \(- for stdout\) or --to-host HOST with --dump/,
    );
    const missing = await bo('restore', 'db', '--dump', 'nope', '--to', join(work, 'x.sql'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/has no dump "nope"[\s\S]*its dumps: app/);
  });

  it('encrypts the dump like the archive, to the same recipients', async (t) => {
    if (!pg || !sshd) return t.skip();
    const r = await bo('backup', 'now', 'sealed');
    expect(r.code).toBe(0);
    const m = manifestOf('sealed');
    expect(m.dumps[0]!.object.key).toBe('dump-app.sql.zst.age');
    const plain = execFileSync('sh', ['-c', `age -d -i ${identity} | zstd -d -c`], {
      input: readFileSync(join(repo, 'sealed', m.id, 'dump-app.sql.zst.age')),
    }).toString();
    expect(plain).toContain('CREATE TABLE public.t');
    const noKey = await bo('restore', 'sealed', '--dump', 'app', '--to', join(work, 'sealed.sql'));
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/encrypted; pass --identity/);
    const withKey = await bo(
      'restore',
      'sealed',
      '--dump',
      'app',
      '--to',
      join(work, 'sealed.sql'),
      '-i',
      identity,
    );
    expect(withKey.code).toBe(0);
    expect(readFileSync(join(work, 'sealed.sql'), 'utf8')).toBe(plain);
  });

  it('fails the backup, with no manifest and nothing stored, when a dump fails midway', async (t) => {
    if (!pg || !sshd) return t.skip();
    const r = await bo('backup', 'now', 'broken');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /dump half on db1 failed: the dump command exited 3: pg_dump: error: connection lost/,
    );
    expect(
      readdirSync(repo).includes('broken')
        ? readdirSync(join(repo, 'broken')).filter((f) => !f.startsWith('.'))
        : [],
    ).toEqual([]);
  });

  it('fails the backup when pg_dump cannot reach the database', async (t) => {
    if (!pg || !sshd) return t.skip();
    const r = await bo('backup', 'now', 'nodb');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /dump nope on db1 failed: the dump command exited 1: .*database "nope" does not exist/,
    );
    expect(
      readdirSync(repo).includes('nodb')
        ? readdirSync(join(repo, 'nodb')).filter((f) => !f.startsWith('.'))
        : [],
    ).toEqual([]);
  });
});
