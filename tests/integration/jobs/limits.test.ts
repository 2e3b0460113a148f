/**
 * Bandwidth and load limits, measured for real: the upload limit of a storage against a local S3
 * server, and a host's read limit on a backup over a real sshd (its tar at low priority). The
 * limits are low (1 MiB/s) and the transfers long enough (≥ 6 s) that a loaded 2-core machine
 * reaches them, and the measurement excludes connection setup: ±10 % holds under load.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.ts';
import { parseResolved } from '../../../src/config/resolve-secrets.ts';
import { Config, S3Storage } from '../../../src/config/schema.ts';
import { runJob } from '../../../src/jobs/registry.ts';
import { createLogger, silentLogger } from '../../../src/log.ts';
import { createServices } from '../../../src/services.ts';
import { createStorage } from '../../../src/storage/registry.ts';
import { newBucket, s3Missing, type TestBucket } from '../../fixtures/buckets.ts';
import { type SshdFixture, startSshd } from '../../fixtures/sshd.ts';
import { streamOf } from '../storage/contract.ts';

const MiB = 1024 * 1024;
// Low enough that a heavily loaded 2-core machine (the suite beside two CPU hogs) still reaches it.
const RATE = 1 * MiB;
const skip = s3Missing();
const buckets: TestBucket[] = [];
const dirs: string[] = [];
let sshd: SshdFixture | undefined;
afterAll(async () => {
  for (const b of buckets) await b.destroy();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await sshd?.stop();
});

/** Throughput in bytes/s of `bytes` moved in `ms`. */
const rate = (bytes: number, ms: number) => bytes / (ms / 1000);

describe.skipIf(skip)('storage upload limit (limits.upload)', () => {
  async function limited(limits: unknown) {
    const b = await newBucket();
    buckets.push(b);
    const cfg = parseResolved(S3Storage, { ...b.config, limits });
    return createStorage('limited', cfg, { log: silentLogger() });
  }

  it('holds uploads to the configured rate, within 10 %', async () => {
    const storage = await limited({ upload: '1MiB/s' });
    const data = randomBytes(8 * MiB);
    // The rate while the data flows (accepted bytes over time), not setup and the final commit.
    const samples: Array<{ t: number; bytes: number }> = [];
    await storage.put('big', streamOf(data), {
      sizeHint: 64 * MiB,
      onProgress: (bytes) => samples.push({ t: performance.now(), bytes }),
    });
    const inside = samples.filter((x) => x.bytes > 0 && x.bytes < data.length);
    const [first, last] = [inside[0]!, inside.at(-1)!];
    expect(last.t - first.t).toBeGreaterThan(4000);
    const measured = rate(last.bytes - first.bytes, last.t - first.t);
    expect(measured).toBeGreaterThan(RATE * 0.9);
    expect(measured).toBeLessThan(RATE * 1.1);
    await storage.close();
  });

  it('is not in force outside its windows', async () => {
    // A window that is never now: the day before today, so the upload is not limited.
    const yesterday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][(new Date().getUTCDay() + 6) % 7];
    const storage = await limited({ upload: { rate: '256KiB/s', when: [yesterday] }, timezone: 'UTC' });
    const data = randomBytes(4 * MiB);
    const started = performance.now();
    await storage.put('fast', streamOf(data));
    expect(rate(data.length, performance.now() - started)).toBeGreaterThan(2 * 256 * 1024);
    await storage.close();
  });
});

describe.skipIf(skip)("a host's read limit (hosts.*.limits.read) on a backup over SSH", () => {
  it('reads the archive stream at the configured rate, within 10 %, with tar at low priority', async (ctx) => {
    sshd = await startSshd();
    if (!sshd) return ctx.skip();
    const work = mkdtempSync(join(tmpdir(), 'bo-limits-'));
    dirs.push(work);
    const src = join(work, 'src');
    mkdirSync(src);
    const total = 8 * MiB;
    writeFileSync(join(src, 'random.bin'), randomBytes(total)); // incompressible: source ≈ stream
    const b = await newBucket();
    buckets.push(b);
    const config = parseResolved(Config, {
      stateDir: join(work, 'state'),
      storage: { offsite: b.config },
      hosts: { files1: { ...sshd.hostConfig(), limits: { read: '1MiB/s' } } },
      jobs: { share: { host: 'files1', paths: [src], storage: 'offsite', compression: 'none' } },
    });
    const lines: string[] = [];
    const log = createLogger({
      level: 'debug',
      destination: new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    });
    const services = createServices({ config, log, clock: systemClock });
    const samples: Array<{ t: number; bytes: number }> = [];
    try {
      await runJob('share', config.jobs.share!, {
        services,
        log,
        signal: new AbortController().signal,
        runId: 'limits-test',
        onProgress: (p) => samples.push({ t: performance.now(), bytes: p.bytes }),
      });
    } finally {
      await services.close();
    }
    // The rate between the first and the last progress sample inside the stream (not setup).
    const inside = samples.filter((s) => s.bytes > 0 && s.bytes < total);
    const first = inside[0]!;
    const last = inside.at(-1)!;
    expect(last.t - first.t).toBeGreaterThan(4000);
    const measured = rate(last.bytes - first.bytes, last.t - first.t);
    expect(measured).toBeGreaterThan(RATE * 0.9);
    expect(measured).toBeLessThan(RATE * 1.1);
    const command = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'Remote command')?.command;
    expect(command).toMatch(/^command -v renice .* renice -n 19 .* ionice -c 2 -n 7 .*LC_ALL=C tar -c/);
  });
});
