import type { Config } from '../config/schema.ts';
import { BoError, errorMessage, HostKeyError, throwIfAborted } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Host } from '../remote/host.ts';
import { createLocalHost } from '../remote/local.ts';
import { LOCAL_HOST, sshHostConfig } from '../remote/registry.ts';
import type { SshHost } from '../remote/ssh.ts';

export interface HostCheck {
  host: string;
  ok: boolean;
  /** Host key the server presented, when the handshake got that far. */
  fingerprint?: string;
  /** Connect + probe round trip. */
  latencyMs: number;
  error?: string;
  hint?: string;
  /** First line of `tar --version` (GNU tar is what backups need). */
  tar?: string;
  /** Path of zstd on the host. */
  zstd?: string;
}

/** Exits 0 on any POSIX shell; prints what backups need from the host. */
export const PROBE =
  `printf 'tar=%s\\n' "$(tar --version 2>/dev/null | head -n 1)"; ` +
  `printf 'zstd=%s\\n' "$(command -v zstd 2>/dev/null)"`;

/**
 * `bo hosts check`: connects to every host (or the named ones) at once, each bounded by its own
 * connect timeout, and runs a probe. One dead host never delays the report for the others.
 */
export async function checkHosts(
  names: string[] | undefined,
  opts: { config: Config; log: Logger; concurrency?: number; signal?: AbortSignal },
): Promise<HostCheck[]> {
  const list = names && names.length > 0 ? names : Object.keys(opts.config.hosts);
  // Unknown names are a usage error before anything connects.
  const targets = list.map((name) => ({
    name,
    cfg: name === LOCAL_HOST ? undefined : sshHostConfig(name, opts.config),
  }));
  const results: HostCheck[] = new Array(targets.length);
  const { createSshHost } = await import('../remote/ssh.ts'); // ssh2 loads only when it is used
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const i = next++;
      const t = targets[i]!;
      const host = t.cfg ? createSshHost(t.name, t.cfg, { log: opts.log }) : createLocalHost();
      results[i] = await probe(host, t.cfg?.connectTimeout ?? 15_000, opts.signal);
    }
  };
  const workers = Math.max(1, Math.min(opts.concurrency ?? 16, targets.length));
  await Promise.all(Array.from({ length: workers }, worker));
  throwIfAborted(opts.signal);
  for (const r of results) {
    if (!r.ok) opts.log.debug({ host: r.host, error: r.error }, 'Host check failed');
  }
  return results;
}

async function probe(host: Host, timeoutMs: number, signal: AbortSignal | undefined): Promise<HostCheck> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  const key = () => (host as Partial<SshHost>).presentedKey?.()?.fingerprint;
  try {
    const r = await host.run(PROBE, { signal, idleTimeoutMs: timeoutMs });
    const field = (k: string) => r.stdout.match(new RegExp(`^${k}=(.+)$`, 'm'))?.[1]?.trim();
    const check: HostCheck = { host: host.name, ok: r.code === 0, latencyMs: latency() };
    const fp = key();
    if (fp) check.fingerprint = fp;
    const tar = field('tar');
    const zstd = field('zstd');
    if (tar) check.tar = tar;
    if (zstd) check.zstd = zstd;
    if (r.code !== 0) check.error = `probe exited with code ${r.code}: ${r.stderr.trim().slice(0, 200)}`;
    return check;
  } catch (err) {
    const check: HostCheck = { host: host.name, ok: false, latencyMs: latency(), error: errorMessage(err) };
    const fp = err instanceof HostKeyError ? err.fingerprint : key();
    if (fp) check.fingerprint = fp;
    if (err instanceof BoError && err.hint) check.hint = err.hint;
    return check;
  } finally {
    await host.close();
  }
}
