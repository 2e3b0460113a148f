import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as ageJs from 'age-encryption';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDecryptStream,
  createEncryptStream,
  generateIdentity,
  identityToRecipient,
  parseIdentities,
} from '../../../src/archive/age/index.ts';
import { registerKey } from '../../../src/cli/commands/key.ts';
import type { CliContext } from '../../../src/cli/context.ts';
import { systemClock } from '../../../src/clock.ts';
import { BoError, IntegrityError, UsageError } from '../../../src/errors.ts';
import { hasCommand, missing } from '../../fixtures/require.ts';

const SIZES = [0, 1, 65535, 65536, 65537, 3_000_000];
const CHUNK = 64 * 1024;
const noAge = missing('age CLI', hasCommand('age') && hasCommand('age-keygen'), 'Debian package age');

/** Streams `data` through a transform in 100 KiB writes and collects the output. */
async function through(transform: Transform, data: Buffer): Promise<Buffer> {
  const out: Buffer[] = [];
  const pieces: Buffer[] = [];
  for (let i = 0; i < data.length; i += 100_000) pieces.push(data.subarray(i, i + 100_000));
  await pipeline(
    Readable.from(pieces),
    transform,
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        out.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

const boEncrypt = (data: Buffer, recipients: string[]) => through(createEncryptStream(recipients), data);
const boDecrypt = (data: Buffer, identityText: string) => through(createDecryptStream(identityText), data);
const run = (cmd: string, args: string[], input?: Buffer) =>
  execFileSync(cmd, args, { input, maxBuffer: 64 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] });

let dir: string;
const plain = new Map(SIZES.map((n) => [n, randomBytes(n)]));
const data = (n: number) => plain.get(n)!;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bo-age-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(noAge)('age interop with the age CLI', () => {
  const keys: { file: string; recipient: string }[] = [];
  beforeAll(() => {
    for (const name of ['a', 'b']) {
      const file = join(dir, `${name}.key`);
      run('age-keygen', ['-o', file]);
      keys.push({ file, recipient: run('age-keygen', ['-y', file]).toString().trim() });
    }
  });
  const identity = (i: number) => readFileSync(keys[i]!.file, 'utf8');

  it('parses age-keygen identity files to the recipient age-keygen -y prints', () => {
    for (const [i, key] of keys.entries()) {
      const ids = parseIdentities(identity(i));
      expect(ids.map(identityToRecipient)).toEqual([key.recipient]);
    }
  });

  it.each(SIZES)('bo encrypt → age -d: %i bytes', async (n) => {
    const sealed = await boEncrypt(data(n), [keys[0]!.recipient]);
    const file = join(dir, `bo-${n}.age`);
    writeFileSync(file, sealed);
    expect(run('age', ['-d', '-i', keys[0]!.file, file]).equals(data(n))).toBe(true);
  });

  it.each(SIZES)('age -r → bo decrypt: %i bytes', async (n) => {
    const sealed = run('age', ['-r', keys[0]!.recipient], data(n));
    expect((await boDecrypt(sealed, identity(0))).equals(data(n))).toBe(true);
  });

  it('two recipients: either identity decrypts, both ways', async () => {
    const input = data(65537);
    const recipientsFile = join(dir, 'recipients.txt');
    writeFileSync(recipientsFile, `# two keys\n${keys[0]!.recipient}\n${keys[1]!.recipient}\n`);
    const fromAge = run('age', ['-R', recipientsFile], input);
    const fromBo = await boEncrypt(input, [keys[0]!.recipient, keys[1]!.recipient]);
    const boFile = join(dir, 'two.age');
    writeFileSync(boFile, fromBo);
    for (const i of [0, 1]) {
      expect((await boDecrypt(fromAge, identity(i))).equals(input)).toBe(true);
      expect(run('age', ['-d', '-i', keys[i]!.file, boFile]).equals(input)).toBe(true);
    }
  });

  it('the CLI agrees that a tampered bo file is bad', async () => {
    const sealed = await boEncrypt(data(65537), [keys[0]!.recipient]);
    sealed[sealed.length - 100]! ^= 1;
    const file = join(dir, 'tampered.age');
    writeFileSync(file, sealed);
    expect(spawnSync('age', ['-d', '-i', keys[0]!.file, file]).status).not.toBe(0);
  });
});

describe('age interop with the age-encryption npm package', () => {
  const key = generateIdentity();

  it.each(SIZES)('bo encrypt → age-encryption decrypt: %i bytes', async (n) => {
    const d = new ageJs.Decrypter();
    d.addIdentity(key.identity);
    const out = await d.decrypt(await boEncrypt(data(n), [key.recipient]));
    expect(Buffer.from(out).equals(data(n))).toBe(true);
  });

  it.each(SIZES)('age-encryption encrypt → bo decrypt: %i bytes', async (n) => {
    const e = new ageJs.Encrypter();
    e.addRecipient(key.recipient);
    const sealed = Buffer.from(await e.encrypt(data(n)));
    expect((await boDecrypt(sealed, key.identity)).equals(data(n))).toBe(true);
  });

  it('keys generated by either side work on the other', async () => {
    const jsIdentity = await ageJs.generateIdentity();
    const jsRecipient = await ageJs.identityToRecipient(jsIdentity);
    expect(identityToRecipient(parseIdentities(jsIdentity)[0]!)).toBe(jsRecipient);
    expect(await ageJs.identityToRecipient(key.identity)).toBe(key.recipient);
  });
});

describe('age failures', () => {
  const key = generateIdentity();
  const other = generateIdentity();
  let sealed: Buffer; // 3,000,000 bytes: 46 chunks
  let headerEnd: number; // where the 16-byte payload nonce starts
  beforeAll(async () => {
    sealed = await boEncrypt(data(3_000_000), [key.recipient]);
    headerEnd = sealed.indexOf('\n', sealed.indexOf('\n---') + 1) + 1;
  });
  const decryptError = async (file: Buffer, identityText = key.identity) =>
    boDecrypt(file, identityText).then(
      () => undefined,
      (err: unknown) => err,
    );

  it('a wrong identity is a clear BoError, not an integrity problem', async () => {
    const err = await decryptError(sealed, other.identity);
    expect(err).toBeInstanceOf(BoError);
    expect(err).not.toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toBe(
      'none of the given identities can decrypt this file (it is encrypted to 1 recipient)',
    );
    const two = await boEncrypt(data(1), [key.recipient, generateIdentity().recipient]);
    expect(((await decryptError(two, other.identity)) as Error).message).toMatch(/encrypted to 2 recipients/);
  });

  it('either of several identities in one file is tried', async () => {
    const out = await boDecrypt(sealed, `${other.identity}\n${key.identity}\n`);
    expect(out.equals(data(3_000_000))).toBe(true);
  });

  it.each([
    ['the first chunk', 16 + 10, /authentication failed at chunk 0 /],
    ['a middle chunk', 16 + 20 * (CHUNK + 16) + 5000, /authentication failed at chunk 20 /],
    ['a chunk tag', 16 + 2 * (CHUNK + 16) - 1, /authentication failed at chunk 1 /],
    ['the last chunk', -1, /authentication failed at chunk 45 /],
    ['the payload nonce', 3, /authentication failed at chunk 0 /],
  ])('a flipped byte in %s is an IntegrityError', async (_what, offset, message) => {
    const bad = Buffer.from(sealed);
    const at = offset < 0 ? bad.length + offset : headerEnd + offset;
    bad[at] = bad[at]! ^ 0x40;
    const err = await decryptError(bad);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toMatch(message);
  });

  it('a flipped byte in the header is an IntegrityError (bad MAC or malformed header)', async () => {
    for (const offset of [headerEnd - 10, headerEnd - 60, 40]) {
      const bad = Buffer.from(sealed);
      bad[offset] = bad[offset] === 0x41 ? 0x42 : 0x41;
      const err = await decryptError(bad);
      // A changed ephemeral share or wrapped key no longer opens: that reads as "no match".
      expect(err).toBeInstanceOf(BoError);
      expect((err as Error).message).toMatch(/header|none of the given identities/);
    }
  });

  it.each([
    ['inside the header', () => 30],
    ['right after the header', () => headerEnd],
    ['inside the payload nonce', () => headerEnd + 8],
    ['right after the nonce', () => headerEnd + 16],
    ['inside a chunk tag area', () => headerEnd + 16 + 10],
    ['in the middle of a chunk', () => headerEnd + 16 + CHUNK / 2],
    ['exactly at a chunk boundary', () => headerEnd + 16 + 3 * (CHUNK + 16)],
    ['one byte short', () => sealed.length - 1],
  ])('a file truncated %s is an IntegrityError', async (_what, at) => {
    const err = await decryptError(sealed.subarray(0, at()));
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toMatch(/truncated/);
  });

  it('data after the final chunk is an IntegrityError', async () => {
    for (const extra of [Buffer.from([0]), randomBytes(CHUNK + 16), Buffer.from(sealed.subarray(-100))]) {
      const err = await decryptError(Buffer.concat([sealed, extra]));
      expect(err).toBeInstanceOf(IntegrityError);
      expect((err as Error).message).toMatch(/data after the final chunk|authentication failed/);
    }
  });

  it('a file that is not age at all is refused at once', async () => {
    const err = await decryptError(data(65537));
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toMatch(/not an age file/);
  });
});

describe.skipIf(noAge)('bo key', () => {
  /** Runs `bo key …` in-process with captured output; throws what the command throws. */
  async function bo(args: string[]): Promise<{ stdout: string; stderr: string }> {
    const res = { stdout: '', stderr: '' };
    const out = {
      print: (t: string) => (res.stdout += t.endsWith('\n') ? t : `${t}\n`),
      note: (t: string) => (res.stderr += `${t}\n`),
    };
    const program = new Command('bo').exitOverride();
    registerKey(program, { out, clock: systemClock } as unknown as CliContext);
    await program.parseAsync(['node', 'bo', ...args]);
    return res;
  }

  it('generate --out writes a 0600 age-keygen compatible file and prints the recipient', async () => {
    const file = join(dir, 'generated.key');
    const res = await bo(['key', 'generate', '--out', file]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const recipient = res.stdout.trim();
    expect(recipient).toMatch(/^age1[0-9a-z]{58}$/);
    expect(res.stderr).toMatch(/keep it safe/);
    expect(run('age-keygen', ['-y', file]).toString().trim()).toBe(recipient);
    expect((await bo(['key', 'recipient', file])).stdout.trim()).toBe(recipient);

    const before = readFileSync(file);
    await expect(bo(['key', 'generate', '--out', file])).rejects.toThrow(UsageError);
    await expect(bo(['key', 'generate', '--out', file])).rejects.toThrow(/refusing to overwrite/);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('generate without --out prints an identity file that age-keygen -y reads', async () => {
    const { stdout } = await bo(['key', 'generate']);
    expect(stdout).toMatch(/^# created: \S+Z\n# public key: age1\S+\nAGE-SECRET-KEY-1[0-9A-Z]+\n$/);
    const recipient = /# public key: (age1\S+)/.exec(stdout)![1];
    expect(run('age-keygen', ['-y'], Buffer.from(stdout)).toString().trim()).toBe(recipient);
    const file = join(dir, 'printed.key');
    writeFileSync(file, stdout, { mode: 0o644 });
    const listed = await bo(['key', 'recipient', file]);
    expect(listed.stdout.trim()).toBe(recipient);
    expect(listed.stderr).toMatch(/readable by other users/);
    writeFileSync(join(dir, 'bad.key'), 'not a key\n');
    await expect(bo(['key', 'recipient', join(dir, 'bad.key')])).rejects.toThrow(
      /line 1: invalid age identity/,
    );
  });
});
