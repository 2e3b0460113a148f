/**
 * SSH exec stream throughput: bo's SshHost (ssh2, aes128-gcm preferred) against the OpenSSH `ssh`
 * client as a baseline, same key, same throwaway sshd on loopback, measured in the same run.
 *   node bench/ssh.ts [MiB] [runs]   (default 1024 MiB, 3 runs each; prints median and best)
 * Loopback on a small shared machine is noisy (node, sshd and `head` compete for the cores), so
 * each side runs several times, interleaved.
 */
import { spawn } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseResolved } from '../src/config/resolve-secrets.ts';
import { Host as HostSchema } from '../src/config/schema.ts';
import { silentLogger } from '../src/log.ts';
import { createSshHost } from '../src/remote/ssh.ts';
import { type SshdFixture, startSshd } from '../tests/fixtures/sshd.ts';

function counter(): { sink: Writable; bytes: () => number } {
  let n = 0;
  const sink = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      cb();
    },
  });
  return { sink, bytes: () => n };
}

async function once(fn: () => Promise<number>): Promise<{ bytes: number; seconds: number }> {
  const start = process.hrtime.bigint();
  const bytes = await fn();
  return { bytes, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

function report(label: string, runs: Array<{ bytes: number; seconds: number }>): void {
  const rates = runs.map((r) => r.bytes / 1e6 / r.seconds).sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)]!;
  const best = rates[rates.length - 1]!;
  const all = rates.map((r) => r.toFixed(0)).join(' ');
  console.log(
    `${label.padEnd(52)} median ${median.toFixed(0).padStart(4)} MB/s  best ${best.toFixed(0).padStart(4)}  (runs: ${all})`,
  );
}

export async function benchSsh(mib = 1024, runs = 3): Promise<void> {
  const sshd = await startSshd({ cleanShell: true }); // no ~/.bashrc per command
  if (!sshd) return;
  const command = `head -c ${mib}M /dev/zero`;
  console.log(`ssh exec stream: ${command}, loopback sshd, ${runs} runs each, node ${process.version}`);
  const host = createSshHost('bench', parseResolved(HostSchema, sshd.hostConfig()), { log: silentLogger() });
  const ciphers = ['aes128-gcm@openssh.com', 'chacha20-poly1305@openssh.com'];
  const results = new Map<string, Array<{ bytes: number; seconds: number }>>();
  const add = (label: string, r: { bytes: number; seconds: number }) =>
    results.set(label, [...(results.get(label) ?? []), r]);
  try {
    await host.run('true'); // connect outside the measurement
    for (let i = 0; i < runs; i++) {
      add(
        'bo SshHost (ssh2, aes128-gcm@openssh.com)',
        await once(async () => {
          const proc = await host.exec(command);
          proc.stdin.end();
          const c = counter();
          await Promise.all([pipeline(proc.stdout, c.sink), proc.done]);
          return c.bytes();
        }),
      );
      for (const cipher of ciphers) {
        add(
          `OpenSSH ssh client (${cipher}, incl. connect)`,
          await once(() => openssh(sshd, cipher, command)),
        );
      }
      // The other direction (restores): local data into the remote command's stdin.
      add(
        'stdin: bo SshHost → cat >/dev/null',
        await once(async () => {
          const proc = await host.exec('cat >/dev/null');
          proc.stdout.resume();
          proc.stderr.resume();
          await pipeline(zeros(mib), proc.stdin);
          await proc.done;
          return mib * MIB;
        }),
      );
      add(
        'stdin: OpenSSH ssh (aes128-gcm, incl. connect) → cat',
        await once(async () => {
          await openssh(sshd, ciphers[0]!, 'cat >/dev/null', zeros(mib));
          return mib * MIB;
        }),
      );
    }
  } finally {
    await host.close();
    await sshd.stop();
  }
  for (const [label, r] of results) report(label, r);
}

const MIB = 1024 * 1024;

function zeros(mib: number): Readable {
  const chunk = Buffer.alloc(MIB);
  return Readable.from(
    (function* () {
      for (let i = 0; i < mib; i++) yield chunk;
    })(),
  );
}

async function openssh(
  sshd: SshdFixture,
  cipher: string,
  command: string,
  input?: Readable,
): Promise<number> {
  const child = spawn(
    'ssh',
    [
      ...['-i', sshd.clientKeyPath, '-p', String(sshd.port), '-c', cipher],
      ...['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'],
      ...['-o', 'LogLevel=ERROR', `${sshd.user}@127.0.0.1`, command],
    ],
    { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'inherit'] },
  );
  const c = counter();
  await Promise.all([
    pipeline(child.stdout!, c.sink),
    input ? pipeline(input, child.stdin!) : undefined,
    new Promise((resolve) => child.once('close', resolve)),
  ]);
  return c.bytes();
}

if (import.meta.main) await benchSsh(Number(process.argv[2] ?? 1024), Number(process.argv[3] ?? 3));
