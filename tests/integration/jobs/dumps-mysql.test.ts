import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBo, writeConfig } from '../../fixtures/bo.ts';
import { type MariadbFixture, startMariadb } from '../../fixtures/mariadb.ts';
import { type SshdFixture, startSshd } from '../../fixtures/sshd.ts';

const CHECKSUM = `SET SESSION group_concat_max_len = 16777216;
SELECT CONCAT(COUNT(*), ':', MD5(GROUP_CONCAT(CONCAT_WS('|', id, IFNULL(v, '<null>'), IFNULL(n, '<null>'), IFNULL(at, '<null>')) ORDER BY id SEPARATOR ','))) FROM t;`;

/**
 * MySQL dumps for real: MariaDB (Debian's mariadb-server) on a unix socket in a temp dir, dumped
 * over the loopback sshd with mysqldump, streamed into filesystem storage, and restored into a
 * fresh database through `bo restore --dump --to-host`.
 */
describe('MySQL (MariaDB) dumps over SSH', () => {
  let db: MariadbFixture | undefined;
  let sshd: SshdFixture | undefined;
  let work: string;
  let repo: string;
  let config: string;

  beforeAll(async () => {
    db = await startMariadb();
    sshd = await startSshd();
    if (!db || !sshd) return;
    work = mkdtempSync(join(tmpdir(), 'bo-mysql-'));
    repo = join(work, 'repo');
    mkdirSync(join(work, 'files'));
    writeFileSync(join(work, 'files', 'a.txt'), 'files beside the dump\n');
    db.sql(`CREATE DATABASE shop CHARACTER SET utf8mb4;
      USE shop;
      CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v TEXT, n DECIMAL(12,2), at DATETIME);
      INSERT INTO t (v, n, at) SELECT CONCAT('row ', seq, ' ünïcødé ''quoted'' \\\\ back'), seq * 1.5, '2026-01-01' + INTERVAL seq HOUR FROM seq_1_to_2000;
      INSERT INTO t (v, n, at) VALUES (NULL, NULL, NULL);`);
    const dump = { type: 'mysql', database: 'shop', ...db.client() };
    config = writeConfig(
      {
        stateDir: join(work, 'state'),
        storage: { repo: { type: 'filesystem', path: repo } },
        hosts: { db1: sshd.hostConfig() },
        jobs: {
          shop: { host: 'db1', paths: [join(work, 'files')], storage: 'repo', dumps: [dump] },
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
    await db?.stop();
    await sshd?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const bo = (...args: string[]) => runBo(['--config', config, ...args]);

  function manifestOf(job: string): {
    id: string;
    dumps: Array<{ object: { key: string; size: number; sha256: string } }>;
  } {
    const [id] = readdirSync(join(repo, job)).filter((d) => /^\d{8}T/.test(d));
    return { id: id!, ...JSON.parse(readFileSync(join(repo, job, id!, 'manifest.json'), 'utf8')) };
  }

  it('streams mysqldump into its own object, restorable without bo', async (t) => {
    if (!db || !sshd) return t.skip();
    const r = await bo('backup', 'now', 'shop');
    expect(r.stdout).toMatch(/^ok {6}shop /);
    expect(r.code).toBe(0);
    const m = manifestOf('shop');
    expect(m.dumps).toEqual([
      {
        name: 'shop',
        type: 'mysql',
        database: 'shop',
        object: { key: 'dump-shop.sql.zst', size: expect.any(Number), sha256: expect.any(String) },
      },
    ]);
    const stored = readFileSync(join(repo, 'shop', m.id, 'dump-shop.sql.zst'));
    expect(createHash('sha256').update(stored).digest('hex')).toBe(m.dumps[0]!.object.sha256);
    const sql = execFileSync('zstd', ['-d', '-c'], { input: stored }).toString();
    expect(sql).toMatch(/CREATE TABLE `t`/);
    // zstd -d | mariadb, by hand.
    db!.sql('CREATE DATABASE by_hand');
    execFileSync('sh', ['-c', `zstd -d -c | mariadb --no-defaults --socket=${db!.socket} by_hand`], {
      input: stored,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    expect(db!.sql(CHECKSUM, 'by_hand')).toBe(db!.sql(CHECKSUM, 'shop'));
  });

  it('restores the dump into a fresh database on the host: same checksum', async (t) => {
    if (!db || !sshd) return t.skip();
    db!.sql('CREATE DATABASE restored');
    const r = await bo(
      'restore',
      'shop',
      '--dump',
      'shop',
      '--to-host',
      'db1',
      '--into-db',
      'restored',
      '--json',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      dump: 'shop',
      target: 'db1 (database restored)',
      verified: true,
    });
    expect(db!.sql(CHECKSUM, 'restored')).toMatch(/^2001:[0-9a-f]{32}$/);
    expect(db!.sql(CHECKSUM, 'restored')).toBe(db!.sql(CHECKSUM, 'shop'));
  });

  it('fails the backup, with nothing stored, when mysqldump cannot dump the database', async (t) => {
    if (!db || !sshd) return t.skip();
    const r = await bo('backup', 'now', 'nodb');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/dump nope on db1 failed: the dump command exited 2: .*Unknown database 'nope'/);
    expect(
      readdirSync(repo).includes('nodb')
        ? readdirSync(join(repo, 'nodb')).filter((f) => !f.startsWith('.'))
        : [],
    ).toEqual([]);
  });
});
