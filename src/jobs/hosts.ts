import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config/schema.ts';
import { BoError, errorMessage, HostKeyError, UsageError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { where } from '../remote/describe.ts';
import {
  checkHostKey,
  loadHostTrust,
  normalizeFingerprint,
  preferredHostKeyAlgorithms,
} from '../remote/host-key.ts';
import { fingerprint, keyType, knownHostsLine, removeHost } from '../remote/known-hosts.ts';
import { LOCAL_HOST, sshHostConfig } from '../remote/registry.ts';

export { checkHosts, type HostCheck } from './hosts-check.ts';

export interface TrustResult {
  host: string;
  fingerprint: string;
  keyType: string;
  /** True when a line was written to the known_hosts file. */
  recorded: boolean;
  /** The known_hosts file consulted (absent when the config pins `hostKey`). */
  file?: string;
  /** The presented key was already trusted (known_hosts entry or config pin). */
  alreadyTrusted: boolean;
  /** Where trust lives for this host. */
  source: 'hostKey' | 'known_hosts';
  /** A different key was recorded and has been replaced (`replace`). */
  replaced?: boolean;
}

/**
 * `bo hosts trust`: fetches the host key (no authentication, no command) and records it in the
 * host's known_hosts file. A host pinned with `hostKey` in the config is only compared, never
 * changed. A different key already recorded is refused unless `replace`; with `fingerprint`, the
 * presented key must match it (out-of-band verification for scripts).
 */
export async function trustHost(
  name: string,
  opts: { config: Config; log: Logger; fingerprint?: string; replace?: boolean; signal?: AbortSignal },
): Promise<TrustResult> {
  if (name === LOCAL_HOST) throw new UsageError('the local host is not reached over SSH: nothing to trust');
  const cfg = sshHostConfig(name, opts.config);
  const trust = loadHostTrust(cfg);
  const { fetchHostKey } = await import('../remote/connect.ts'); // loads ssh2
  const blob = await fetchHostKey(name, cfg, preferredHostKeyAlgorithms(trust), opts.signal);
  const fp = fingerprint(blob);
  const type = keyType(blob);
  const base = { host: name, fingerprint: fp, keyType: type };
  if (opts.fingerprint !== undefined) {
    const expected = normalizeFingerprint(opts.fingerprint);
    if (expected !== fp) {
      throw new HostKeyError(
        `${where(name, cfg)} presented ${type} ${fp}, not the expected ${expected}: not trusting it`,
        fp,
      );
    }
  }
  if (trust.kind === 'pins') {
    return { ...base, recorded: false, alreadyTrusted: trust.pins.includes(fp), source: 'hostKey' };
  }
  const file = trust.file;
  const refusal = checkHostKey(name, cfg, trust, blob);
  if (!refusal) return { ...base, recorded: false, file, alreadyTrusted: true, source: 'known_hosts' };
  const revoked = trust.keys.some((k) => k.revoked && k.blob.equals(blob));
  const replacing = trust.keys.some((k) => !k.revoked);
  if (revoked || (replacing && !opts.replace)) throw refusal;
  writeKnownHosts(file, (text) => {
    const kept = replacing ? removeHost(text, cfg.address, cfg.port) : text;
    const sep = kept === '' || kept.endsWith('\n') ? '' : '\n';
    return `${kept}${sep}${knownHostsLine(cfg.address, cfg.port, blob)}\n`;
  });
  opts.log.info({ host: name, fingerprint: fp, file, replaced: replacing }, 'Host key recorded');
  return { ...base, recorded: true, file, alreadyTrusted: false, source: 'known_hosts', replaced: replacing };
}

/** Rewrites the file atomically (temp file + rename); creates its directory 0700 and the file 0644. */
function writeKnownHosts(file: string, edit: (text: string) => string): void {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    let text = '';
    let mode = 0o644;
    try {
      text = readFileSync(file, 'utf8');
      mode = statSync(file).mode & 0o777;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, edit(text), { mode });
    chmodSync(tmp, mode);
    renameSync(tmp, file);
  } catch (err) {
    throw new BoError(`cannot update known_hosts file ${file}: ${errorMessage(err)}`, { cause: err });
  }
}
