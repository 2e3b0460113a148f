import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { groupMarker, killGroupCommand } from '../../../src/remote/pgid.ts';

/** Runs stderr chunks (built from the marker's random tag) through the stripper. */
async function strip(chunks: (tag: string) => string[]) {
  const marker = groupMarker('tar -c /srv');
  const tag = marker.command.match(/bo-pgid:[0-9a-f]+:/)![0];
  let pgid: number | undefined = -1;
  const out: Buffer[] = [];
  const stream = Readable.from(chunks(tag).map((c) => Buffer.from(c))).pipe(
    marker.stripper((p) => {
      pgid = p;
    }),
  );
  for await (const c of stream) out.push(c as Buffer);
  return { text: Buffer.concat(out).toString(), pgid, command: marker.command, tag };
}

describe('groupMarker', () => {
  it('prefixes the command with a line reporting the shell pid on stderr', async () => {
    const { command } = await strip(() => []);
    expect(command).toMatch(/^printf 'bo-pgid:[0-9a-f]{12}:%s\\n' "\$\$" >&2; tar -c \/srv$/);
  });

  it('strips the marker line and reports the group id', async () => {
    expect(await strip((tag) => [`${tag}1234\nreal stderr\n`])).toMatchObject({
      text: 'real stderr\n',
      pgid: 1234,
    });
  });

  it('handles a marker split into single bytes, after noise from shell start-up files', async () => {
    const r = await strip((tag) => [...`motd noise\n${tag}987\nafter`]);
    expect(r).toMatchObject({ text: 'motd noise\nafter', pgid: 987 });
  });

  it('gives up after 4 KiB without a marker and passes everything through', async () => {
    const noise = 'x'.repeat(5000);
    const r = await strip((tag) => [noise, `${tag}5\n`]);
    expect(r.pgid).toBeUndefined();
    expect(r.text).toBe(`${noise}${r.tag}5\n`);
  });

  it('reports no group when stderr ends without a marker', async () => {
    expect(await strip(() => ['only noise'])).toMatchObject({ text: 'only noise', pgid: undefined });
    expect(await strip(() => [])).toMatchObject({ text: '', pgid: undefined });
  });

  it('builds the kill command for the group', () => {
    expect(killGroupCommand(4242, false)).toBe('kill -s KILL -- -4242 2>/dev/null; true');
    expect(killGroupCommand(4242, true)).toBe('sudo -n kill -s KILL -- -4242 2>/dev/null; true');
  });
});
