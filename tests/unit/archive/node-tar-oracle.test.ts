/**
 * node-tar as an oracle for bo's own tar reader (src/archive/tar-reader.ts), and the record of
 * why bo has its own reader at all.
 *
 * (a) On ordinary archives, a crafted one and one made by GNU tar, bo's reader and node-tar's
 *     Parser must agree on every entry: path, type, size, mode, mtime, link target, content.
 * (b) Each node-tar defect that tar-reader.ts names is shown here still to exist. When one of
 *     these fails, node-tar fixed the defect: reconsider whether bo still needs its own reader
 *     (and update the comment at the top of tar-reader.ts).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser, type ReadEntry } from 'tar';
import { describe, expect, it } from 'vitest';
import { type TarEntryType, TarReader } from '../../../src/archive/tar-reader.ts';
import { hasCommand } from '../../fixtures/require.ts';
import { craftTar, sparseMember } from '../../fixtures/tar-craft.ts';

interface Seen {
  path: string;
  type: string;
  size: number;
  mode: number;
  mtime: number;
  linkpath: string | undefined;
  sha256: string | undefined;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const NODE_TAR_TYPES: Record<string, TarEntryType> = {
  File: 'file',
  OldFile: 'file',
  ContiguousFile: 'file',
  Directory: 'dir',
  SymbolicLink: 'symlink',
  Link: 'hardlink',
  FIFO: 'fifo',
  CharacterDevice: 'char',
  BlockDevice: 'block',
};

/** node-tar's view, the archive written in chunks of `step` bytes. */
function nodeTar(archive: Buffer, step = archive.length): Promise<{ entries: Seen[]; raw: ReadEntry[] }> {
  return new Promise((resolve, reject) => {
    const entries: Seen[] = [];
    const raw: ReadEntry[] = [];
    const p = new Parser({ strict: true });
    p.on('entry', (e: ReadEntry) => {
      raw.push(e);
      const parts: Buffer[] = [];
      e.on('data', (c: Buffer) => parts.push(c));
      e.on('end', () => {
        const type = NODE_TAR_TYPES[e.type] ?? e.type;
        entries.push({
          path: e.path.replace(/\/$/, ''),
          type,
          size: type === 'file' ? (e.size ?? 0) : 0,
          mode: (e.mode ?? 0) & 0o7777,
          mtime: Math.floor((e.mtime?.getTime() ?? 0) / 1000),
          linkpath: e.linkpath || undefined,
          sha256: type === 'file' ? sha(Buffer.concat(parts)) : undefined,
        });
      });
    });
    p.on('error', reject);
    p.on('end', () => resolve({ entries, raw }));
    for (let i = 0; i < archive.length; i += step) p.write(archive.subarray(i, i + step));
    p.end();
  });
}

/** bo's view, the same archive in chunks of `step` bytes; content rebuilt from offsets. */
function boReader(archive: Buffer, step = archive.length) {
  const r = new TarReader();
  const entries: Array<Seen & { xattrs: string[] | undefined }> = [];
  let content: Buffer | undefined;
  for (let i = 0; i < archive.length; i += step) {
    for (const ev of r.write(archive.subarray(i, i + step))) {
      if (ev.type === 'entry') {
        const e = ev.entry;
        content = e.type === 'file' ? Buffer.alloc(e.size) : undefined;
        entries.push({
          path: e.path.replace(/\/$/, ''),
          type: e.type,
          size: e.size,
          mode: e.mode,
          mtime: Math.floor(e.mtime),
          linkpath: e.linkpath,
          sha256: undefined,
          xattrs: e.xattrs,
        });
      } else if (ev.type === 'data') ev.data.copy(content!, ev.offset);
      else if (content) entries.at(-1)!.sha256 = sha(content);
    }
  }
  r.end();
  return entries;
}

const withoutXattrs = (es: ReturnType<typeof boReader>): Seen[] => es.map(({ xattrs: _x, ...e }) => e);
const longUtf8 = `u/${'é'.repeat(300)}/file`;

describe('bo tar reader agrees with node-tar on ordinary archives', () => {
  it('a crafted archive: every type, modes, old and recent mtimes, long ASCII names, sizes around 512', async () => {
    const archive = craftTar([
      { path: 'srv/', type: 'Directory', mode: 0o2775, mtime: 1_000_000_000 },
      { path: 'srv/empty', data: '' },
      { path: 'srv/block', data: Buffer.alloc(512, 7), mode: 0o600 },
      { path: 'srv/odd', data: Buffer.alloc(513, 9), mode: 0o4755, mtime: 1_700_000_000 },
      { path: 'srv/text', data: 'hello\n'.repeat(1000), mode: 0o755 },
      { path: 'srv/link', type: 'SymbolicLink', linkpath: '../etc/hostname' },
      { path: 'srv/hard', type: 'Link', linkpath: 'srv/text' },
      { path: 'srv/fifo', type: 'FIFO', mode: 0o640 },
      { path: 'srv/long', pax: { path: `srv/${'n'.repeat(150)}/deep` }, data: 'long name' },
    ]);
    const ours = withoutXattrs(boReader(archive));
    expect(ours).toHaveLength(9);
    expect(ours).toEqual((await nodeTar(archive)).entries);
  });

  it.skipIf(!hasCommand('tar'))('an archive made by GNU tar (posix format) from a real tree', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bo-oracle-'));
    try {
      const t = join(dir, 't');
      mkdirSync(join(t, 'sub'), { recursive: true });
      writeFileSync(join(t, 'a.txt'), 'alpha\n');
      writeFileSync(join(t, 'sub', 'big'), Buffer.alloc(70_000, 3));
      writeFileSync(join(t, 'x'.repeat(120)), 'long');
      symlinkSync('a.txt', join(t, 'sym'));
      linkSync(join(t, 'a.txt'), join(t, 'sub', 'hard'));
      utimesSync(join(t, 'a.txt'), 1_000_000_000, 1_000_000_000);
      execFileSync('tar', ['-C', dir, '-cf', join(dir, 'a.tar'), '--format=posix', 't']);
      const archive = readFileSync(join(dir, 'a.tar'));
      const ours = withoutXattrs(boReader(archive, 4096));
      expect(ours.map((e) => e.type).sort()).toEqual([
        'dir',
        'dir',
        'file',
        'file',
        'file',
        'hardlink',
        'symlink',
      ]);
      expect(ours).toEqual((await nodeTar(archive)).entries);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('node-tar 7 defects that bo’s own reader exists for (each test asserts the defect is still there)', () => {
  it('drops unknown pax keys: SCHILY.xattr.* never reaches the entry', async () => {
    const archive = craftTar([{ path: 'f', data: 'x', pax: { 'SCHILY.xattr.user.colour': 'blue' } }]);
    const { raw } = await nodeTar(archive);
    const everything = JSON.stringify([raw[0]!.header, raw[0]!.extended, raw[0]!.meta]);
    expect(everything).not.toMatch(/colour|SCHILY/);
    expect(boReader(archive)[0]!.xattrs).toEqual(['user.colour']);
  });

  it('splits pax records on newlines: a name containing "\\n" loses its pax path', async () => {
    const archive = craftTar([{ path: 'fallback', pax: { path: 'dir/line\nbreak' }, data: 'x' }]);
    const { entries } = await nodeTar(archive);
    expect(entries[0]!.path).not.toBe('dir/line\nbreak');
    expect(boReader(archive)[0]!.path).toBe('dir/line\nbreak');
  });

  it('decodes a multi-block pax header chunk by chunk: a long UTF-8 name split across writes is lost (the truncated ustar name shows instead)', async () => {
    const archive = craftTar([{ path: 'u/fallback', pax: { path: longUtf8 }, data: 'x' }]);
    expect((await nodeTar(archive)).entries[0]!.path).toBe(longUtf8); // one write: fine
    const broken: number[] = [];
    for (const step of [514, 516, 520, 600, 700, 1000]) {
      if ((await nodeTar(archive, step)).entries[0]!.path !== longUtf8) broken.push(step);
      expect(boReader(archive, step)[0]!.path).toBe(longUtf8);
    }
    expect(broken.length).toBeGreaterThan(0);
  });

  it('does not understand GNU sparse 1.0 members: wrong name, stored size instead of the real one', async () => {
    const archive = Buffer.concat([
      sparseMember('srv/disk.img', 1_000_000, [{ offset: 4096, data: Buffer.alloc(100, 1) }]),
      Buffer.alloc(1024),
    ]);
    const theirs = (await nodeTar(archive)).entries[0]!;
    expect(theirs.path).toBe('GNUSparseFile.0/disk.img');
    expect(theirs.size).not.toBe(1_000_000);
    const ours = boReader(archive)[0]!;
    expect(ours).toMatchObject({ path: 'srv/disk.img', size: 1_000_000 });
    const real = Buffer.alloc(1_000_000);
    real.fill(1, 4096, 4196);
    expect(ours.sha256).toBe(sha(real));
  });
});
