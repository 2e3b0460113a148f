/**
 * Malicious archives against the local extractor and the guard: each must fail with an error
 * naming the entry, and nothing outside the target directory may be created or changed.
 */
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractTar } from '../../../src/archive/extract.ts';
import { createTarGuard } from '../../../src/archive/tar-guard.ts';
import { BoError } from '../../../src/errors.ts';
import { hasCommand, missing } from '../../fixtures/require.ts';
import { type CraftEntry, craftTar, member } from '../../fixtures/tar-craft.ts';
import { chunked, collector, sh } from './tar-helpers.ts';

let dir: string;
let target: string;
let outside: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bo-tar-evil-'));
  target = join(dir, 'target');
  outside = join(dir, 'outside');
  mkdirSync(target);
  mkdirSync(outside);
  writeFileSync(join(outside, 'sentinel'), 'untouched');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function assertOutsideUntouched(): void {
  expect(readdirSync(dir).sort()).toEqual(['outside', 'target']);
  expect(readdirSync(outside)).toEqual(['sentinel']);
  expect(readFileSync(join(outside, 'sentinel'), 'utf8')).toBe('untouched');
  expect(lstatSync(join(outside, 'sentinel')).nlink).toBe(1);
}

const ok: CraftEntry = { path: 'ok.txt', data: 'fine' };
const pwn = 'pwned';

/** name → entries (after a benign first entry) and the message the refusal must contain. */
function cases(outside: string): Array<[string, CraftEntry[], RegExp]> {
  return [
    ['../evil', [{ path: '../evil', data: pwn }], /"\.\.\/evil": contains a "\.\." component/],
    ['an absolute path', [{ path: `${outside}/evil`, data: pwn }], /absolute path/],
    ['a/../../evil', [{ path: 'a/../../evil', data: pwn }], /"a\/\.\.\/\.\.\/evil"/],
    ['an empty name', [{ path: '', pax: { path: '' }, data: pwn }], /empty name/],
    [
      'a file written through a symlink from the archive',
      [
        { path: 'link', type: 'SymbolicLink', linkpath: outside },
        { path: 'link/pwned', data: pwn },
      ],
      /link\/pwned.*link/,
    ],
    [
      'a hardlink escaping the target',
      [{ path: 'hl', type: 'Link', linkpath: '../outside/sentinel' }],
      /hardlink target.*\.\./,
    ],
    [
      'a hardlink to an absolute path',
      [{ path: 'hl', type: 'Link', linkpath: `${outside}/sentinel` }],
      /hardlink target.*absolute/,
    ],
    [
      'a symlink replacing a directory that is written into later',
      [
        { path: 'd/', type: 'Directory' },
        { path: 'd', type: 'SymbolicLink', linkpath: outside },
        { path: 'd/pwned', data: pwn },
      ],
      /d\/pwned.*symlink/,
    ],
    [
      'a hardlink through a symlink',
      [
        { path: 'link', type: 'SymbolicLink', linkpath: outside },
        { path: 'hl', type: 'Link', linkpath: 'link/sentinel' },
      ],
      /hl.*link/,
    ],
  ];
}

const NAMES = cases('/outside').map(([name]) => name);
const theCase = (name: string) => cases(outside).find(([n]) => n === name)!;

describe('extractTar refuses malicious archives', () => {
  it.each(NAMES)('%s', async (name) => {
    const [, entries, message] = theCase(name);
    const archive = craftTar([ok, ...entries]);
    const err = await extractTar(chunked(archive, 512), target).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BoError);
    expect((err as Error).message).toMatch(message);
    assertOutsideUntouched();
  });

  it('refuses to write through a symlink already in the target', async () => {
    symlinkSync(outside, join(target, 'pre'));
    await expect(extractTar(chunked(craftTar([{ path: 'pre/pwned', data: pwn }])), target)).rejects.toThrow(
      /pre\/pwned: pre is a symlink/,
    );
    assertOutsideUntouched();
  });

  it('replaces (never follows) an existing symlink at a file path', async () => {
    symlinkSync(join(outside, 'sentinel'), join(target, 'link2'));
    await extractTar(chunked(craftTar([{ path: 'link2', data: pwn }])), target);
    assertOutsideUntouched();
    expect(lstatSync(join(target, 'link2')).isFile()).toBe(true);
    expect(readFileSync(join(target, 'link2'), 'utf8')).toBe(pwn);
  });

  it('refuses a hardlink to a file the archive did not extract', async () => {
    writeFileSync(join(target, 'preexisting'), 'x');
    await expect(
      extractTar(chunked(craftTar([{ path: 'hl', type: 'Link', linkpath: 'preexisting' }])), target),
    ).rejects.toThrow(/hardlink hl: its target preexisting was not extracted/);
  });
});

describe('createTarGuard', () => {
  it.each(NAMES)('refuses %s without forwarding its header', async (name) => {
    const [, entries, message] = theCase(name);
    const prefix = member(ok);
    const archive = craftTar([ok, ...entries]);
    for (const step of [1, 100, 512, 700, archive.length]) {
      const out = collector();
      await expect(pipeline(chunked(archive, step), createTarGuard(), out.stream)).rejects.toThrow(message);
      const got = out.bytes();
      // Only a prefix of the archive left, and nothing of the refused entry's headers.
      expect(archive.subarray(0, got.length).equals(got)).toBe(true);
      const refusedAt = archive.length - 1024 - member(entries.at(-1)!).length;
      expect(got.length).toBeLessThanOrEqual(refusedAt);
      expect(got.length).toBeGreaterThanOrEqual(
        step >= archive.length ? 0 : Math.min(prefix.length, refusedAt) - step - 512,
      );
    }
  });

  it('refuses an entry that replaces a symlink of the archive', async () => {
    const archive = craftTar([
      { path: 'l', type: 'SymbolicLink', linkpath: outside },
      { path: 'l', data: pwn },
    ]);
    await expect(pipeline(chunked(archive), createTarGuard(), collector().stream)).rejects.toThrow(
      /replaces a symlink/,
    );
  });

  it('forwards a benign archive byte for byte, at any chunk size', async () => {
    const archive = craftTar([
      { path: 'd/', type: 'Directory' },
      { path: 'd/a', data: 'x'.repeat(3000), pax: { path: `d/${'é'.repeat(200)}` } },
      { path: 'd/l', type: 'SymbolicLink', linkpath: '/etc/passwd' },
      { path: 'd/h', type: 'Link', linkpath: 'd/a', pax: { linkpath: `d/${'é'.repeat(200)}` } },
    ]);
    for (const step of [1, 511, 4096, archive.length]) {
      const out = collector();
      const seen: string[] = [];
      await pipeline(
        chunked(archive, step),
        createTarGuard({ onEntry: (e) => seen.push(e.path) }),
        out.stream,
      );
      expect(out.bytes().equals(archive)).toBe(true);
      expect(seen).toEqual(['d', `d/${'é'.repeat(200)}`, 'd/l', 'd/h']);
    }
  });

  it('errors on a truncated stream', async () => {
    const archive = craftTar([{ path: 'a', data: 'x'.repeat(5000) }]);
    await expect(
      pipeline(chunked(archive.subarray(0, 3000)), createTarGuard(), collector().stream),
    ).rejects.toThrow(/truncated/);
  });

  it('stops when onEntry throws (e.g. a hash that does not match the index)', async () => {
    const guard = createTarGuard({
      onEntry: () => {
        throw new BoError('mismatch');
      },
    });
    await expect(pipeline(chunked(craftTar([ok])), guard, collector().stream)).rejects.toThrow('mismatch');
  });

  it.skipIf(missing('GNU tar', hasCommand('tar'), 'tar'))(
    'in front of GNU tar, nothing gets out of the target',
    async () => {
      const archive = craftTar([
        ok,
        { path: 'link', type: 'SymbolicLink', linkpath: outside },
        { path: 'link/pwned', data: pwn },
      ]);
      const guard = createTarGuard();
      const failed = new Promise((resolve) => guard.once('error', resolve));
      const r = await sh(`tar -x -f - -C '${target}'`, chunked(archive, 1).pipe(guard));
      expect(String(await failed)).toMatch(/link\/pwned/);
      // The guard's error is what fails a restore (bo kills tar and reports it). tar's own exit
      // status depends on where its input was cut: at a header boundary GNU tar exits 0.
      expect(r.code).not.toBeNull();
      assertOutsideUntouched();
      expect(readdirSync(target)).not.toContain('pwned');
    },
  );
});
