import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const WORDS = (
  'the mail queue relay delivered deferred bounced postfix smtpd client connect disconnect from to status sent ' +
  'backup share report invoice order customer account payment database table index select insert update where'
).split(' ');

function pick<T>(a: T[]): T {
  return a[Math.floor(Math.random() * a.length)]!;
}

function sentence(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += `${pick(WORDS)} `;
  return s;
}

async function writeLines(path: string, bytes: number, line: (i: number) => string): Promise<void> {
  const out = createWriteStream(path);
  let written = 0;
  let i = 0;
  while (written < bytes) {
    let chunk = '';
    while (chunk.length < 1 << 20) chunk += `${line(i++)}\n`;
    written += chunk.length;
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r, j) => out.end((e?: Error) => (e ? j(e) : r())));
}

/**
 * A storage/transmission server in miniature, ~1 GB at scale 1: a mail spool of small text
 * files, large compressible logs and a SQL dump, and one large incompressible file.
 */
export async function ensureDataset(root: string, scale: number): Promise<{ dir: string; bytes: number }> {
  const dir = join(root, `dataset-x${scale}`);
  const spoolFiles = 20_000 * scale;
  const sizes = { logs: 4 * 100e6 * scale, dump: 150e6 * scale, random: 250e6 * scale };
  const spoolBytes = spoolFiles * 5000;
  const bytes = sizes.logs + sizes.dump + sizes.random + spoolBytes;
  if (existsSync(join(dir, '.complete'))) return { dir, bytes };
  mkdirSync(join(dir, 'spool'), { recursive: true });
  mkdirSync(join(dir, 'log'), { recursive: true });
  for (let i = 0; i < spoolFiles; i++) {
    const sub = join(dir, 'spool', String(i % 100));
    if (i < 100) mkdirSync(sub, { recursive: true });
    const body = `From: user${i}@example.com\nSubject: ${sentence(6)}\n\n${sentence(Math.floor(400 + Math.random() * 800))}\n`;
    writeFileSync(join(sub, `msg-${i}.eml`), body.slice(0, 5000).padEnd(5000, '.'));
  }
  let t = 1_700_000_000;
  for (let f = 0; f < 4; f++) {
    await writeLines(join(dir, 'log', `mail-${f}.log`), sizes.logs / 4, () => {
      t += Math.random() * 2;
      return `${new Date(t * 1000).toISOString()} mx1 postfix/smtpd[${Math.floor(Math.random() * 99999)}]: ${sentence(8)}ip=10.${Math.floor(Math.random() * 255)}.${Math.floor(Math.random() * 255)}.7`;
    });
  }
  await writeLines(
    join(dir, 'dump.sql'),
    sizes.dump,
    (i) =>
      `INSERT INTO orders VALUES (${i}, ${Math.floor(Math.random() * 1e6)}, '${sentence(5)}', ${(Math.random() * 1000).toFixed(2)});`,
  );
  const out = createWriteStream(join(dir, 'random.bin'));
  for (let w = 0; w < sizes.random; w += 1 << 20) {
    if (!out.write(randomBytes(1 << 20))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
  writeFileSync(join(dir, '.complete'), '');
  return { dir, bytes };
}
