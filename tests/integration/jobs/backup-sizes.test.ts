import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.ts';
import { parseResolved } from '../../../src/config/resolve-secrets.ts';
import { Config } from '../../../src/config/schema.ts';
import type { JobProgress } from '../../../src/jobs/kinds.ts';
import { runJob } from '../../../src/jobs/registry.ts';
import { silentLogger } from '../../../src/log.ts';
import { createServices } from '../../../src/services.ts';
import { runBo, writeConfig } from '../../fixtures/bo.ts';

const MiB = 1024 * 1024;

/**
 * Source bytes (file content read from the server, before compression) and stored bytes (archive,
 * index and dumps) under the same names, with the same figures, on every surface.
 */
describe('one size vocabulary: source bytes and stored bytes', () => {
  const work = mkdtempSync(join(tmpdir(), 'bo-sizes-'));
  const src = join(work, 'src');
  const repo = join(work, 'repo');
  const raw = {
    stateDir: join(work, 'state'),
    storage: { repo: { type: 'filesystem', path: repo } },
    jobs: {
      tree: { host: 'local', paths: [src], storage: 'repo', schedule: '0 3 * * *', incremental: false },
    },
    health: { defaults: false, checks: [{ check: 'backup-freshness' }] },
  };
  let config: string;

  beforeAll(() => {
    mkdirSync(src);
    // 3 MiB that compress to almost nothing, and a little that does not compress.
    writeFileSync(join(src, 'zeros.bin'), Buffer.alloc(3 * MiB));
    writeFileSync(join(src, 'noise.bin'), randomBytes(20_000));
    config = writeConfig(raw, mkdtempSync(join(work, 'cfg-')));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  function manifest(): {
    stats: { bytes: number };
    archive: { size: number };
    index: { size: number };
    dumps: Array<{ object: { size: number } }>;
  } {
    const ids = readdirSync(join(repo, 'tree')).sort();
    return JSON.parse(readFileSync(join(repo, 'tree', ids.at(-1)!, 'manifest.json'), 'utf8'));
  }

  it('bo backup now, bo list, bo status and the report show the same source and stored figures', async () => {
    const b = await runBo(['--config', config, 'backup', 'now', 'tree']);
    expect(b.code).toBe(0);
    const m = manifest();
    const stored = m.archive.size + m.index.size + m.dumps.reduce((n, d) => n + d.object.size, 0);
    expect(m.stats.bytes).toBe(3 * MiB + 20_000);
    // One formatter: IEC units, three significant digits.
    const sourceText = 'source 3.02 MiB';
    const storedText = `stored ${(stored / 1024).toFixed(1)} KiB`;
    expect(stored).toBeGreaterThan(20_000);
    expect(stored).toBeLessThan(100 * 1024);

    expect(`${b.stdout}${b.stderr}`).toContain(`${sourceText}, ${storedText}`);

    const list = await runBo(['--config', config, 'list']);
    expect(list.stdout).toMatch(/^BACKUP +HOST +AGE +TYPE +FILES +SOURCE +STORED +STORAGE$/m);
    expect(list.stdout).toMatch(
      new RegExp(
        `^tree/\\S+ +local +\\d+s ago +\\S+ +2 +3\\.02 MiB +${storedText.slice(7).replace('.', '\\.')} +repo$`,
        'm',
      ),
    );
    const listJson = JSON.parse((await runBo(['--config', config, 'list', '--json'])).stdout);
    expect(listJson.backups[0]).toMatchObject({ sourceBytes: m.stats.bytes, storedBytes: stored });

    const status = await runBo(['--config', config, 'status']);
    expect(status.stdout).toContain(`${sourceText}, ${storedText}`);
    const statusJson = JSON.parse((await runBo(['--config', config, 'status', '--json'])).stdout);
    expect(statusJson.jobs[0].lastRun).toMatchObject({ bytes: m.stats.bytes, storedBytes: stored });

    const html = await runBo(['--config', config, 'report', '--format', 'html']);
    expect(html.stdout).toContain(`${sourceText}, ${storedText}`);
    const md = await runBo(['--config', config, 'report']);
    expect(md.stdout).toMatch(/^\| job \| host \| status \| last good \| source \| stored \|/m);
    expect(md.stdout).toContain(`| 3.02 MiB | ${storedText.slice(7)} |`);
    const json = JSON.parse((await runBo(['--config', config, 'report', '--format', 'json'])).stdout);
    expect(json.backups[0]).toMatchObject({ job: 'tree', sourceBytes: m.stats.bytes, storedBytes: stored });
  });

  it('progress counts source bytes (not compressed ones), with the previous backup as the total', async () => {
    const cfg = parseResolved(Config, raw);
    const services = createServices({ config: cfg, log: silentLogger(), clock: systemClock });
    try {
      const run = async () => {
        const seen: JobProgress[] = [];
        await runJob('tree', cfg.jobs.tree!, {
          services,
          log: silentLogger(),
          signal: new AbortController().signal,
          runId: `sizes-${randomBytes(3).toString('hex')}`,
          onProgress: (p) => seen.push({ ...p }),
        });
        return seen.filter((p) => p.phase === 'streaming');
      };
      // The backup above is the previous one: its source bytes are this run's estimate.
      const previous = manifest().stats.bytes;
      const seen = await run();
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.at(-1)!.bytes).toBe(manifest().stats.bytes);
      expect(seen.every((p) => p.totalBytes === previous)).toBe(true);
      // zstd on the host shrinks 3 MiB of zeros to a few hundred bytes: the count is before that.
      expect(seen.at(-1)!.storedBytes!).toBeLessThan(seen.at(-1)!.bytes / 10);
    } finally {
      await services.close();
    }
  });
});
