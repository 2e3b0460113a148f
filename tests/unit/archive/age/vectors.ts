import { inflateSync } from 'node:zlib';
import * as vectors from 'cctv-age';

/**
 * The C2SP/CCTV age test vectors (npm cctv-age). Each file is a text block of `key: value` lines,
 * a blank line, then the age file (zlib-compressed when `compressed: zlib`).
 */
export interface Vector {
  name: string;
  expect: string;
  payload?: string;
  identities: string[];
  passphrases: string[];
  armored: boolean;
  fileKey?: string;
  file: Buffer;
}

export function parseVector(name: string, raw: Uint8Array): Vector {
  const buf = Buffer.from(raw);
  const split = buf.indexOf('\n\n');
  const fields = buf
    .subarray(0, split)
    .toString('utf8')
    .split('\n')
    .map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)] as const);
  const get = (k: string) => fields.filter(([key]) => key === k).map(([, v]) => v);
  const body = buf.subarray(split + 2);
  return {
    name,
    expect: get('expect')[0]!,
    payload: get('payload')[0],
    identities: get('identity'),
    passphrases: get('passphrase'),
    armored: get('armored')[0] === 'yes',
    fileKey: get('file key')[0],
    file: get('compressed')[0] === 'zlib' ? inflateSync(body) : body,
  };
}

export const all = Object.entries(vectors as Record<string, Uint8Array>)
  .map(([name, raw]) => parseVector(name, raw))
  .sort((a, b) => a.name.localeCompare(b.name));
