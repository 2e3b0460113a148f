import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parsePax } from '../../../src/archive/tar-header.ts';
import { type TarEntry, type TarEvent, TarReader } from '../../../src/archive/tar-reader.ts';
import { IntegrityError } from '../../../src/errors.ts';
import { craftTar, EOF, header, member, paxBody, sparseMember } from '../../fixtures/tar-craft.ts';

interface Read {
  entry: TarEntry;
  content: Buffer;
}

/** Reads a whole archive fed in chunks of `step` bytes; content is rebuilt from offsets (holes = zeros). */
function readAll(buf: Buffer, step = buf.length): Read[] {
  const r = new TarReader();
  const out: Read[] = [];
  let parts: Array<{ data: Buffer; offset: number }> = [];
  const on = (ev: TarEvent) => {
    if (ev.type === 'entry') {
      out.push({ entry: ev.entry, content: Buffer.alloc(0) });
      parts = [];
    } else if (ev.type === 'data') parts.push({ data: Buffer.from(ev.data), offset: ev.offset });
    else {
      const last = out.at(-1)!;
      const content = Buffer.alloc(last.entry.size);
      for (const p of parts) p.data.copy(content, p.offset);
      last.content = content;
    }
  };
  for (let i = 0; i < buf.length; i += step) for (const ev of r.write(buf.subarray(i, i + step))) on(ev);
  r.end();
  return out;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const longName = `${'é'.repeat(300)}/${'日本'.repeat(100)}/file`;

describe('TarReader', () => {
  it('reads pax names byte-exactly at every chunk size, including multi-block UTF-8 and newlines', () => {
    const archive = craftTar([
      { path: 'short', pax: { path: longName }, data: 'a' },
      { path: 'nl', pax: { path: 'dir/line\nbreak' }, data: 'b' },
      { path: 'x', type: 'SymbolicLink', linkpath: 'x', pax: { linkpath: `/${'t'.repeat(200)}` } },
    ]);
    for (const step of [1, 7, 100, 511, 512, 513, 1000, archive.length]) {
      const got = readAll(archive, step);
      expect(got.map((g) => g.entry.path)).toEqual([longName, 'dir/line\nbreak', 'x']);
      expect(got[2]!.entry.linkpath).toBe(`/${'t'.repeat(200)}`);
      expect(got[0]!.content.toString()).toBe('a');
    }
  });

  it('reads GNU sparse 1.0 members with the real name, size and content', () => {
    const a = Buffer.alloc(5000, 1);
    const b = Buffer.from('tail');
    const archive = Buffer.concat([
      sparseMember('srv/disk.img', 1_000_000, [
        { offset: 4096, data: a },
        { offset: 1_000_000 - 4, data: b },
      ]),
      member({ path: 'after', data: 'x' }),
      EOF,
    ]);
    const expected = Buffer.alloc(1_000_000);
    a.copy(expected, 4096);
    b.copy(expected, 1_000_000 - 4);
    for (const step of [1, 3, 512, 4096, archive.length]) {
      const [sparse, after] = readAll(archive, step);
      expect(sparse!.entry).toMatchObject({
        path: 'srv/disk.img',
        size: 1_000_000,
        sparse: true,
        type: 'file',
      });
      expect(sha(sparse!.content)).toBe(sha(expected));
      expect(after!.entry.path).toBe('after');
    }
  });

  it('reads an all-hole sparse member', () => {
    const archive = Buffer.concat([sparseMember('hole', 10_000, []), EOF]);
    const [e] = readAll(archive);
    expect(e!.entry).toMatchObject({ path: 'hole', size: 10_000 });
    expect(e!.content.equals(Buffer.alloc(10_000))).toBe(true);
  });

  it('reports xattr names and ACLs, and marks names that are not UTF-8', () => {
    const [e] = readAll(
      craftTar([
        {
          path: 'f',
          pax: {
            'SCHILY.xattr.user.a%3Db': 'v',
            'SCHILY.acl.access': 'user::rw-',
            path: Buffer.from([0x61, 0xe9]),
          },
        },
      ]),
    );
    expect(e!.entry.xattrs).toEqual(['user.a=b', 'system.posix_acl_access']);
    expect(e!.entry.nonUtf8).toBe(true);
  });

  it('reads base-256 sizes', () => {
    const data = Buffer.from('hello');
    const h = header({ path: 'f' }, 0);
    h.fill(0, 124, 136);
    h[124] = 0x80;
    h[135] = data.length;
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    const [e] = readAll(Buffer.concat([h, data, Buffer.alloc(507), EOF]));
    expect(e!.content.toString()).toBe('hello');
  });

  const bad: Array<[string, Buffer, RegExp]> = [
    [
      'a truncated stream',
      craftTar([{ path: 'f', data: 'x'.repeat(2000) }]).subarray(0, 1500),
      /truncated inside "f"/,
    ],
    ['a missing end-of-archive marker', craftTar([{ path: 'f', data: 'x' }], { end: false }), /truncated/],
    ['a lone zero block', Buffer.concat([Buffer.alloc(512), member({ path: 'f' }), EOF]), /lone zero block/],
    [
      'data after the end',
      Buffer.concat([craftTar([{ path: 'f' }]), member({ path: 'g' })]),
      /after the end/,
    ],
    [
      'a bad checksum',
      (() => {
        const b = craftTar([{ path: 'f' }]);
        b[0] = 0x67;
        return b;
      })(),
      /bad checksum/,
    ],
    [
      'a directory with data',
      craftTar([{ path: 'd/', type: 'Directory', size: 10, data: 'x'.repeat(10) }]),
      /carries 10 bytes/,
    ],
    [
      'a global header renaming entries',
      craftTar([
        { path: 'g', type: 'GlobalExtendedHeader', data: paxBody({ path: '../evil' }) },
        { path: 'f' },
      ]),
      /global pax header sets path/,
    ],
    [
      'two pax headers for one entry',
      Buffer.concat([
        member({ path: 'a', type: 'ExtendedHeader', data: '12 path=a/b\n' }),
        member({ path: 'f', pax: { path: 'c' } }),
        EOF,
      ]),
      /repeated extended header/,
    ],
    [
      'a pax header without an entry',
      Buffer.concat([member({ path: 'a', type: 'ExtendedHeader', data: '12 path=a/b\n' }), EOF]),
      /without an entry/,
    ],
    [
      'a malformed pax record',
      craftTar([
        { path: 'f', pax: {} },
        { path: 'x', type: 'ExtendedHeader', data: '99 path=x\n' },
      ]),
      /malformed pax/,
    ],
    [
      'GNU sparse 0.1',
      craftTar([{ path: 'f', pax: { 'GNU.sparse.size': '10', 'GNU.sparse.map': '0,1' } }]),
      /sparse format 0\.x/,
    ],
    ['a NUL in a pax path', craftTar([{ path: 'f', pax: { path: 'ok\0../../evil' } }]), /NUL/],
    [
      'an unknown type',
      craftTar([
        { path: 'f', type: 'NextFileHasLongPath', data: 'x' },
        { path: 'y', type: 'CharacterDevice' },
      ]).fill(0x53, 156 + 1024, 157 + 1024),
      /checksum|unsupported/,
    ],
  ];
  it.each(bad)('refuses %s', (_name, archive, message) => {
    expect(() => readAll(archive)).toThrow(IntegrityError);
    expect(() => readAll(archive)).toThrow(message);
  });

  it('an empty input is an error, not an empty archive', () => {
    expect(() => new TarReader().end()).toThrow(/empty tar stream/);
  });

  it('commits a header sequence only once its entry header is complete', () => {
    const archive = craftTar([
      { path: 'a', data: 'x' },
      { path: 'b', pax: { path: 'long/b' }, data: 'y' },
    ]);
    const r = new TarReader();
    r.write(archive.subarray(0, 1024 + 600)); // entry a, then part of b's pax header
    expect(r.committed).toBe(1024);
    r.write(archive.subarray(1024 + 600, 1024 + 2048)); // pax header done, b's header block done
    expect(r.committed).toBe(1024 + 2048);
  });
});

describe('parsePax', () => {
  it('takes records by their length, so values may contain newlines and "="', () => {
    const m = parsePax(Buffer.from('14 path=a\nb=c\n12 uid=1000\n'), 0);
    expect(m.get('path')?.toString()).toBe('a\nb=c');
    expect(m.get('uid')?.toString()).toBe('1000');
  });

  it('refuses records whose length does not fit', () => {
    expect(() => parsePax(Buffer.from('20 path=a\n'), 0)).toThrow(/malformed/);
    expect(() => parsePax(Buffer.from('x path=a\n'), 0)).toThrow(/malformed/);
  });
});
