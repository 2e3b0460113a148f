/**
 * TLS to PostgreSQL: a node given the CA (`coordination.tls.ca`) connects over TLS (every one of
 * its sessions, pg_stat_ssl says), and one given another CA refuses to start, saying why, without
 * the connection URL in the message.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBo } from '../../fixtures/bo.ts';
import { startPostgres } from '../../fixtures/postgres.ts';
import { freePort } from '../../fixtures/tcp-proxy.ts';
import { spawnDaemon } from '../daemon/daemon-proc.ts';
import { cleanUp } from './cluster-env.ts';

const dir = mkdtempSync(join(tmpdir(), 'bo-pg-tls-'));
afterAll(async () => {
  await cleanUp();
  rmSync(dir, { recursive: true, force: true });
});

/** A CA and a server certificate for 127.0.0.1 signed by it. */
function certs(name: string): { ca: string; cert: string; key: string } {
  const f = (x: string) => join(dir, `${name}-${x}`);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name} CA`,
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
  );
  ssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    f('server.key'),
    '-out',
    f('server.csr'),
  );
  writeFileSync(f('ext'), 'subjectAltName=IP:127.0.0.1\n');
  ssl(
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    f('ext'),
    '-out',
    f('server.crt'),
  );
  return { ca: f('ca.pem'), cert: f('server.crt'), key: f('server.key') };
}

describe('TLS to PostgreSQL', () => {
  it('connects over TLS with the configured CA, and refuses a server its CA did not sign', async () => {
    const good = certs('good');
    const other = certs('other');
    const port = await freePort();
    const pg = startPostgres({ tcpPort: port, tls: { cert: good.cert, key: good.key } });
    if (!pg) return;
    try {
      const url = `postgres://postgres:not-a-real-password@127.0.0.1:${port}/postgres`;
      const write = (ca: string) => {
        const file = join(dir, `bo-${ca === good.ca ? 'good' : 'other'}.yaml`);
        writeFileSync(
          file,
          JSON.stringify({
            stateDir: join(dir, 'state'),
            daemon: { socket: join(dir, 'bo.sock') },
            storage: { repo: { type: 'filesystem', path: join(dir, 'repo') } },
            coordination: { type: 'postgres', url: { env: 'BO_PG_URL' }, tls: { ca } },
          }),
        );
        return file;
      };
      const d = await spawnDaemon(write(good.ca), { BO_PG_URL: url });
      const ssl = pg.psql(
        "SELECT count(*) || ' ' || bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name LIKE 'bo %'",
      );
      expect(ssl).toMatch(/^[1-9]\d* true$/);
      d.child.kill('SIGTERM');
      await d.exited;
      const refused = await runBo(['--config', write(other.ca), 'daemon'], { env: { BO_PG_URL: url } });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/cannot join the cluster: PostgreSQL: .*(certificate|self.signed)/i);
      expect(refused.stderr).not.toMatch(/not-a-real-password/);
    } finally {
      pg.stop();
    }
  }, 120_000);
});
