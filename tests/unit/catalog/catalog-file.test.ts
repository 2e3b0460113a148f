import { Readable } from 'node:stream';
import { zstdCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fabricatedManifest } from '../../../bench/lib/manifests.ts';
import { encodeCatalog, readCatalogStream } from '../../../src/catalog/catalog-file.ts';
import type { Manifest } from '../../../src/catalog/manifest.ts';
import { checkLine, encodeSummary, SUMMARY_KIND, summaryLine } from '../../../src/catalog/summary-lines.ts';

const end = Date.parse('2026-12-01T00:00:00Z');
const manifests: Manifest[] = Array.from({ length: 600 }, (_, i) =>
  fabricatedManifest('files1', i, 600, end),
);

async function read(body: Buffer) {
  const entries: unknown[] = [];
  let header: unknown;
  await readCatalogStream(
    Readable.from([body]),
    (h) => (header = h),
    (e) => entries.push(e),
  );
  return { header, entries };
}

describe('the job catalog file', () => {
  it('round-trips as JSON lines (version 2), one manifest a line', async () => {
    const body = await encodeCatalog('files1', new Date(end), manifests);
    const { header, entries } = await read(body);
    expect(header).toEqual({ job: 'files1', updatedAt: new Date(end).toISOString(), count: 600 });
    expect(entries).toEqual(manifests);
  });

  it('still reads version 1 (one JSON document)', async () => {
    const v1 = {
      format: 'bo-catalog',
      version: 1,
      job: 'files1',
      updatedAt: 'x',
      backups: manifests.slice(0, 3),
    };
    const { header, entries } = await read(zstdCompressSync(Buffer.from(JSON.stringify(v1))));
    expect(header).toEqual({ job: 'files1', updatedAt: 'x', count: undefined });
    expect(entries).toEqual(manifests.slice(0, 3));
  });

  it('refuses a truncated catalog and one that is not a catalog', async () => {
    const body = await encodeCatalog('files1', new Date(end), manifests);
    const text = (await import('node:zlib')).zstdDecompressSync(body).toString('utf8');
    const cut = text.split('\n').slice(0, 100).join('\n');
    await expect(read(zstdCompressSync(Buffer.from(`${cut}\n`)))).rejects.toThrow(
      /truncated catalog: 99 of 600/,
    );
    await expect(read(zstdCompressSync(Buffer.from('{"format":"other"}\n')))).rejects.toThrow(
      /not a bo-catalog/,
    );
    await expect(read(Buffer.from('not zstd'))).rejects.toThrow();
  });
});

describe('the catalog summary file', () => {
  it('holds one short line per backup with what list and prune need', async () => {
    const body = await encodeSummary('files1', new Date(end), manifests);
    const lines: unknown[] = [];
    await readCatalogStream(
      Readable.from([body]),
      () => {},
      (l) => lines.push(checkLine(l)),
      SUMMARY_KIND,
    );
    expect(lines).toEqual(manifests.map(summaryLine));
    const [first] = lines as ReturnType<typeof summaryLine>[];
    expect(first).toEqual([
      manifests[0]!.id,
      'files1',
      manifests[0]!.startedAt,
      manifests[0]!.finishedAt,
      1234,
      9_999_999,
      manifests[0]!.archive.size + manifests[0]!.index.size,
      1,
      0,
      ['full', 0, null, manifests[0]!.id],
      ['archive.tar.zst.age', 'index.jsonl.zst.age'],
    ]);
    expect(checkLine(['x'])).toBeUndefined();
  });
});
